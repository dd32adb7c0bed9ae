/*
 * replay.c: a plain main() for a fuzz target (no libFuzzer). Every argument is a directory (or
 * a file); each regular file in it is read and passed once to LLVMFuzzerTestOneInput. A
 * property violation aborts and a sanitizer report ends the process, so the CTest test fails;
 * a missing directory counts as empty (fuzz/regressions/<t>/ exists only for targets that
 * once crashed). Prints how many inputs ran; replaying no input at all is a failure (a wrong
 * path or an empty corpus must not pass as "no crash").
 */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_INPUT (4u * 1024u * 1024u)

/* replay_file runs one file; returns 1 if it ran, 0 if it was not a readable regular file. */
static int replay_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (unsigned long long)st.st_size > REPLAY_MAX_INPUT) {
        return 0;
    }
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return 0;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len == 0 ? 1 : len);
    size_t got = buf != NULL ? fread(buf, 1, len, fp) : 0;
    fclose(fp);
    if (buf == NULL || got != len) {
        free(buf);
        fprintf(stderr, "replay: cannot read %s\n", path);
        exit(1);
    }
    /* an exact-size copy so ASan sees reads past the end of the input */
    (void)LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 1;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* replay_dir runs every regular file of |dir| in name order; returns how many ran. */
static size_t replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return replay_file(dir) ? 1 : 0;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, cap * sizeof(*names));
            if (grown == NULL) {
                exit(1);
            }
            names = grown;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (names[n] == NULL) {
            exit(1);
        }
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 0) {
        qsort(names, n, sizeof(*names), name_cmp);
    }
    size_t ran = 0;
    for (size_t i = 0; i < n; i++) {
        ran += (size_t)replay_file(names[i]);
        free(names[i]);
    }
    free(names);
    return ran;
}

int main(int argc, char **argv)
{
    size_t total = 0;
    for (int i = 1; i < argc; i++) {
        size_t ran = replay_dir(argv[i]);
        printf("%s: %zu inputs\n", argv[i], ran);
        total += ran;
    }
    if (total == 0) {
        fprintf(stderr, "replay: no input replayed: nothing was tested\n");
        return 1;
    }
    printf("replayed %zu inputs, no crash\n", total);
    return 0;
}
