/* tsm_probe.c: is configfs-tsm usable here, and which provider answers (tsm.h)? When it is not,
 * the message says what is missing: configfs not mounted, a kernel without configfs-tsm
 * (Linux 6.7+, CONFIG_TSM_REPORTS), or no provider (not a confidential VM, or the guest driver
 * is not loaded). Linux Documentation/ABI/testing/configfs-tsm-report. */
#include "evidence/tsm/tsm.h"

#include "base/file.h"
#include "base/result.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <unistd.h>

/* CONFIGFS_MAGIC (linux/magic.h) */
#define TSM_CONFIGFS_MAGIC 0x62656570

int atls_tsm_is_configfs(const char *path)
{
    struct statfs fs;
    return statfs(path, &fs) == 0 && fs.f_type == TSM_CONFIGFS_MAGIC;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* guest_devices names the TEE guest devices present ("" when none). */
static void guest_devices(char *out, size_t size)
{
    static const char *const devs[] = {"/dev/sev-guest", "/dev/tdx_guest", "/dev/tdx-guest"};
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
        if (access(devs[i], F_OK) == 0) {
            size_t n = strlen(out);
            snprintf(out + n, size - n, "%s%s", n ? ", " : "", devs[i]);
        }
    }
}

/* missing_root explains why |root| (the default location) does not exist. */
static atls_error missing_root(const char *root)
{
    struct utsname u;
    const char *release = uname(&u) == 0 ? u.release : "unknown";
    char devs[128];
    guest_devices(devs, sizeof(devs));
    char hint[200];
    snprintf(hint, sizeof(hint), "%s%s", devs[0] ? "TEE guest devices present: " : "",
             devs[0] ? devs : "no /dev/sev-guest or /dev/tdx_guest either: not a confidential VM?");
    if (strcmp(root, ATLS_TSM_DEFAULT_ROOT) != 0) {
        ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER, "tsm: %s does not exist", root);
    }
    if (!is_dir("/sys/kernel/config")) {
        ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER,
                   "tsm: no /sys/kernel/config: configfs is not mounted (mount -t configfs none "
                   "/sys/kernel/config); kernel %s; %s",
                   release, hint);
    }
    if (!is_dir("/sys/kernel/config/tsm")) {
        ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER,
                   "tsm: no /sys/kernel/config/tsm: kernel %s has no configfs-tsm (needs Linux "
                   "6.7 or later built with CONFIG_TSM_REPORTS); %s",
                   release, hint);
    }
    ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER,
               "tsm: no %s: kernel %s has configfs-tsm but not its report interface "
               "(CONFIG_TSM_REPORTS); %s",
               root, release, hint);
}

atls_error atls_tsm_probe(const char *root, char *provider, size_t size)
{
    ATLS_ENSURE(root != NULL && provider != NULL && size > 1, ATLS_ERR_USAGE,
                "tsm probe: missing argument");
    provider[0] = '\0';
    if (!is_dir(root)) {
        return missing_root(root);
    }
    char dir[PATH_MAX];
    ATLS_ENSURE(snprintf(dir, sizeof(dir), "%s/atls-probe-%ld", root, (long)getpid()) <
                    (int)sizeof(dir),
                ATLS_ERR_USAGE_CONFIG, "tsm: root path too long");
    if (mkdir(dir, 0700) != 0) {
        ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER, "tsm: cannot create an entry under %s: %s%s",
                   root, strerror(errno),
                   errno == EACCES || errno == EPERM ? " (configfs-tsm needs root)" : "");
    }
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/provider", dir);
    uint8_t *text = NULL;
    size_t len = 0;
    /* a prepared directory (tests): its stand-in makes the attributes, inblob last */
    int prepared = !atls_tsm_is_configfs(root);
    int made = !prepared || atls_tsm_wait_attribute(dir, "inblob");
    atls_error rc = atls_file_read(path, ATLS_TSM_MAX_PROVIDER + 1, &text, &len);
    if (prepared) {
        atls_tsm_remove_attributes(dir);
    }
    if (rmdir(dir) != 0 && rc == ATLS_OK) {
        int e = errno;
        free(text);
        ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER, "tsm: cannot remove %s: %s", dir, strerror(e));
    }
    if (rc != ATLS_OK) {
        atls_error_clear();
        if (prepared) {
            ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER,
                       "tsm: %s has no provider: it is a prepared directory, not configfs, and "
                       "%s (a stand-in must play the kernel's part)",
                       root, made ? "its stand-in made no provider attribute"
                                  : "nothing made the entry's attributes");
        }
        ATLS_RAISE(ATLS_ERR_EVIDENCE_ATTESTER,
                   "tsm: %s has no provider: no TSM provider is registered (not a confidential "
                   "VM, or its guest driver sev-guest / tdx-guest / arm-cca-guest is not loaded)",
                   root);
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\0')) {
        len--;
    }
    int ok = len > 0 && len < size && memchr(text, '\0', len) == NULL;
    if (ok) {
        memcpy(provider, text, len);
        provider[len] = '\0';
    }
    free(text);
    ATLS_ENSURE(ok, ATLS_ERR_EVIDENCE_ATTESTER, "tsm: %s/provider is empty or not text", root);
    return ATLS_OK;
}
