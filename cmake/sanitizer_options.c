/*
 * sanitizer_options.c: linked into every executable of an ATLS_SANITIZE build (CMakeLists.txt).
 *
 * ASan and UBSan report an error by exiting with 1 by default, which is also the exit code the
 * atls CLI gives for "contraindicated/invalid": a test expecting 1 on hostile input would pass
 * when the program hit a memory error on exactly that input. 86 is an exit code no program of
 * ours uses, so a sanitizer report can never look like an expected failure, whoever runs the
 * binary (CTest, a shell test, scripts/demo, a user). ASAN_OPTIONS / UBSAN_OPTIONS from the
 * environment are parsed after these defaults; the Makefile and CTest set exitcode=86 there too.
 */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
    return "exitcode=86:detect_leaks=1";
}

const char *__ubsan_default_options(void)
{
    return "exitcode=86:print_stacktrace=1:halt_on_error=1";
}
