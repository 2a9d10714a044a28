// The release version, set once: PORTWARDEN_VERSION in Package.swift (scripts/package
// passes the package's version through the environment, so the binary and the .deb/.rpm
// always say the same).
#ifndef PORTWARDEN_CVERSION_H
#define PORTWARDEN_CVERSION_H

/// The version both executables print for --version, e.g. "0.1.0".
const char *pw_version(void);

#endif
