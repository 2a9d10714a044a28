// The executables must load on glibc 2.34 (RHEL 9, Amazon Linux 2023), but the Swift
// runtime linked in by --static-swift-stdlib was built on a newer one: Swift's Glibc
// overlay calls hypotf and Foundation (the collector's) hypot, which glibc 2.35
// re-versioned (…@GLIBC_2.35), and the standard library's random numbers call arc4random,
// new in glibc 2.36; --gc-sections drops none of them. The executables link with
// `--wrap=` each (Package.swift), so those calls land here. hypotf and hypot go to the
// version every glibc since the architecture's first release exports (same results: the
// newer ones only stopped setting errno through a wrapper, which Swift never reads);
// arc4random is what glibc's own is, the kernel's getrandom(2) (glibc 2.25), which waits
// until the kernel's generator is seeded and never fails otherwise.
// scripts/test and scripts/package-test check the symbol versions (scripts/symbol-versions).
#if defined(__linux__)
#include <features.h> // defines __GLIBC__ on glibc, not on musl
#endif
#if defined(__linux__) && defined(__GLIBC__)
#include <errno.h>
#include <stdint.h>
#include <sys/random.h>

uint32_t __wrap_arc4random(void);
uint32_t __wrap_arc4random(void) {
    uint32_t value;
    unsigned char *at = (unsigned char *)&value;
    size_t left = sizeof value;
    while (left > 0) {
        ssize_t got = getrandom(at, left, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            __builtin_trap(); // ENOSYS (a kernel before 3.17): no safe answer to give
        }
        at += got;
        left -= (size_t)got;
    }
    return value;
}

#if defined(__x86_64__)
#define PW_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define PW_GLIBC_BASE "GLIBC_2.17"
#endif

#ifdef PW_GLIBC_BASE
__asm__(".symver pw_hypotf_compat, hypotf@" PW_GLIBC_BASE);
__asm__(".symver pw_hypot_compat, hypot@" PW_GLIBC_BASE);
float pw_hypotf_compat(float x, float y);
double pw_hypot_compat(double x, double y);
float __wrap_hypotf(float x, float y);
double __wrap_hypot(double x, double y);
float __wrap_hypotf(float x, float y) { return pw_hypotf_compat(x, y); }
double __wrap_hypot(double x, double y) { return pw_hypot_compat(x, y); }
#endif
#endif
