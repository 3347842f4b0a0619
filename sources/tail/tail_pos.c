/*
 * tail_pos.c - the tail source's position file: a JSON array with one record per file,
 * Flume's TAILDIR keys ({"inode", "pos", "file"}) plus ours ("dev", "head", "headLen",
 * "mark", "markLen": see tail_fp.c), so a Flume position file is read too (its files are
 * then recognised by inode alone).
 *
 * Invariants: the file on disk is always a complete document, the old one or the new one.
 * The store's sl_io_write_file_atomic writes it: the new text goes to <path>.tmp, which is
 * fsynced before the rename (else a crash could leave the rename done and the data not, i.e.
 * an empty or torn position file), then renamed over <path>, then the directory is fsynced (else a crash could undo the rename, and the
 * source would resume from older positions: duplicates, never loss, but avoidable).
 *
 * Threads: no state; sl__tail_pos_write runs on a thread-pool thread and touches only its
 * arguments.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/tail/tail_int.h"
#include "store/io.h"

void sl__tail_pos_free(struct sl_tail_pos *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].file);
    }
    free(v);
}

static int get_u64(json_t *o, const char *key, uint64_t *out, int *has)
{
    json_t *j = json_object_get(o, key);
    *has = j != NULL;
    if (!j) {
        return 0;
    }
    if (!json_is_integer(j) || json_integer_value(j) < 0) {
        return -1;
    }
    *out = (uint64_t)json_integer_value(j);
    return 0;
}

static int get_hash(json_t *o, const char *key, uint64_t *out, int *has)
{
    json_t *j = json_object_get(o, key);
    *has = j != NULL;
    if (!j) {
        return 0;
    }
    const char *s = json_string_value(j);
    char *end;
    if (!s || strlen(s) != 16) {
        return -1;
    }
    errno = 0;
    *out = strtoull(s, &end, 16);
    return *end || errno ? -1 : 0;
}

int sl__tail_pos_parse(const char *text, size_t len, const char *what, struct sl_tail_pos **out,
                       size_t *n, struct sl_err *err)
{
    *out = NULL;
    *n = 0;
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root) {
        return sl_err_set(err, SL_ECORRUPT, "%s: not valid JSON at line %d column %d: %s", what,
                          je.line, je.column, je.text);
    }
    if (!json_is_array(root)) {
        json_decref(root);
        return sl_err_set(err, SL_ECORRUPT, "%s: expected a JSON array of file positions", what);
    }
    size_t cnt = json_array_size(root);
    struct sl_tail_pos *v = calloc(cnt ? cnt : 1, sizeof(*v));
    if (!v) {
        json_decref(root);
        return sl_err_set(err, -ENOMEM, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < cnt && rc == 0; i++) {
        json_t *o = json_array_get(root, i);
        struct sl_tail_pos *p = &v[i];
        int has_ino, has_pos, has_dev, has_head, has_hl, has_mark, has_ml;
        uint64_t hl = 0, ml = 0;
        const char *file = json_string_value(json_object_get(o, "file"));
        if (!json_is_object(o) || get_u64(o, "inode", &p->id.ino, &has_ino) ||
            get_u64(o, "pos", &p->id.pos, &has_pos) || get_u64(o, "dev", &p->id.dev, &has_dev) ||
            get_hash(o, "head", &p->id.head, &has_head) || get_u64(o, "headLen", &hl, &has_hl) ||
            get_hash(o, "mark", &p->id.mark, &has_mark) || get_u64(o, "markLen", &ml, &has_ml) ||
            !has_ino || !has_pos || hl > SL_TAIL_HEAD_MAX || ml > SL_TAIL_MARK_MAX ||
            has_head != has_hl || has_mark != has_ml) {
            rc = sl_err_set(err, SL_ECORRUPT,
                            "%s: record %zu: expected {\"inode\": N, \"pos\": N, \"file\": ...} "
                            "with optional dev, head+headLen, mark+markLen",
                            what, i + 1);
            break;
        }
        p->has_dev = has_dev;
        p->id.head_len = (uint32_t)hl;
        p->id.mark_len = (uint32_t)ml;
        p->file = strdup(file ? file : "");
        if (!p->file) {
            rc = sl_err_set(err, -ENOMEM, "out of memory");
        }
        (*n)++;
    }
    json_decref(root);
    if (rc != 0) {
        sl__tail_pos_free(v, *n);
        *n = 0;
        return rc;
    }
    *out = v;
    return 0;
}

int sl__tail_pos_load(const char *path, struct sl_tail_pos **out, size_t *n, struct sl_err *err)
{
    *out = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) {
            return 0;
        }
        int e = errno;
        return sl_err_set(err, -e, "position file %s: %s", path, strerror(e));
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len + 65536 > cap) {
            cap = cap ? cap * 2 : 131072;
            char *t = realloc(text, cap);
            if (!t) {
                rc = sl_err_set(err, -ENOMEM, "out of memory");
                break;
            }
            text = t;
        }
        size_t r = fread(text + len, 1, 65536, f);
        len += r;
        if (r < 65536) {
            if (ferror(f)) {
                rc = sl_err_set(err, -EIO, "position file %s: read error", path);
            }
            break;
        }
    }
    fclose(f);
    if (rc == 0) {
        char what[PATH_MAX + 32];
        snprintf(what, sizeof(what), "position file %s", path);
        rc = sl__tail_pos_parse(text, len, what, out, n, err);
    }
    free(text);
    return rc;
}

char *sl__tail_pos_encode(const struct sl_tail_pos *v, size_t n)
{
    json_t *root = json_array();
    for (size_t i = 0; root && i < n; i++) {
        const struct sl_tail_pos *p = &v[i];
        json_t *o = json_object();
        if (!o || json_array_append_new(root, o) != 0) {
            json_decref(root);
            return NULL;
        }
        int rc = json_object_set_new(o, "inode", json_integer((json_int_t)p->id.ino));
        rc |= json_object_set_new(o, "pos", json_integer((json_int_t)p->id.pos));
        rc |= json_object_set_new(o, "file", json_string(p->file ? p->file : ""));
        if (p->has_dev) {
            rc |= json_object_set_new(o, "dev", json_integer((json_int_t)p->id.dev));
        }
        char hex[17];
        if (p->id.head_len) {
            snprintf(hex, sizeof(hex), "%016" PRIx64, p->id.head);
            rc |= json_object_set_new(o, "head", json_string(hex));
            rc |= json_object_set_new(o, "headLen", json_integer(p->id.head_len));
        }
        if (p->id.mark_len) {
            snprintf(hex, sizeof(hex), "%016" PRIx64, p->id.mark);
            rc |= json_object_set_new(o, "mark", json_string(hex));
            rc |= json_object_set_new(o, "markLen", json_integer(p->id.mark_len));
        }
        if (rc != 0) {
            json_decref(root);
            return NULL;
        }
    }
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return text;
}

const char *sl__tail_dir_of(const char *path, char *dir, size_t size)
{
    snprintf(dir, size, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) {
        slash[1] = '\0';
    } else if (slash) {
        *slash = '\0';
    } else {
        snprintf(dir, size, ".");
    }
    const char *name = strrchr(path, '/');
    return name ? name + 1 : path;
}

int sl__tail_pos_write(const char *path, const char *text, size_t len, struct sl_err *err)
{
    char dir[PATH_MAX];
    const char *name = sl__tail_dir_of(path, dir, sizeof(dir));
    char *doc = malloc(len + 1); /* the text and its newline, written at once */
    if (!doc) {
        return sl_err_set(err, -ENOMEM, "position file %s: out of memory", path);
    }
    memcpy(doc, text, len);
    doc[len] = '\n';
    int rc = sl_io_write_file_atomic(dir, name, doc, len + 1);
    free(doc);
    if (rc != 0) {
        return sl_err_set(err, rc, "position file %s (written as %s.tmp, then renamed): %s", path,
                          path, strerror(-rc));
    }
    return 0;
}
