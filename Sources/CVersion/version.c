#include "CVersion.h"

// Defined by Package.swift for this file only, so a new version recompiles one C file
// and relinks, never the Swift modules.
const char *pw_version(void) { return PORTWARDEN_VERSION; }
