// libpq, the PostgreSQL client library of the system (libpq-dev): TLS to the database
// through the system OpenSSL, every authentication method, .pgpass, service files, PG*
// variables and multi-host connection strings.
#include <libpq-fe.h>
