/* atls/version.h: the library version (also the EAR verifier build id). */
#ifndef ATLS_VERSION_H
#define ATLS_VERSION_H
#define ATLS_VERSION "0.1.0"
#endif
