// The system zlib, for gzip-encoded report bodies.
#ifndef PORTWARDEN_CZLIB_SHIM_H
#define PORTWARDEN_CZLIB_SHIM_H
#include <zlib.h>

// inflateInit2 is a macro; 15 + 32 accepts gzip and zlib headers.
static inline int pw_inflate_init_gzip(z_stream *stream) { return inflateInit2(stream, 15 + 32); }
static inline int pw_deflate_init_gzip(z_stream *stream) {
    return deflateInit2(stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
#endif
