/* keys.c: see keys.h.  Reference: supervisor options.py,
 * UnhosedConfigParser.saneget() and expand_here(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "datatypes.h"
#include "keys.h"
#include "log.h"
#include "strbuf.h"

/* Reports an error about a key and returns -EINVAL.  Takes msg. */
int key_fail(const KeyCtx *x, const IniKey *k, const char *key, char *msg) {
        const char *file = k ? k->file : x->section ? x->section->file : NULL;
        unsigned line = k ? k->line : x->section ? x->section->line : 0;
        if (streq(x->kind, "supervisord")) {
                log_error_at(file, line, "%s: %s (in [%s]).", key, msg, x->section->name);
                if (x->model && !x->model->fail_file) {
                        x->model->fail_file = file;
                        x->model->fail_line = line;
                }
        }
        else
                log_error_at(file, line, "%s: %s (in [%s]), skipping %s '%s'.", key, msg, x->section->name, x->kind,
                             x->name);
        free(msg);
        return -EINVAL;
}

/* supervisor's saneget(): the value (or the default), with "%(here)s"
 * replaced by the directory of the file that set it (expand_here()), then
 * "%"-expanded unless do_expand is false.  *ret is NULL when the key is
 * absent and def is NULL. */
int key_get(const KeyCtx *x, const char *key, const char *def, Expansions *e, bool do_expand, char **ret,
               const IniKey **ret_key) {
        const IniKey *k = ini_section_lookup(x->config, x->section, key);
        if (ret_key)
                *ret_key = k;
        if (!k) {
                if (!def) {
                        *ret = NULL;
                        return 0;
                }
                if (!do_expand || !strchr(def, '%')) {
                        *ret = xstrdup(def);
                        return 0;
                }
                char *error = NULL;
                if (expand_format(def, e, ret, &error) < 0)
                        return key_fail(x, NULL, key, error);
                return 0;
        }

        /* Most values hold no '%' at all: nothing to replace or expand. */
        if (!strchr(k->value, '%')) {
                *ret = xstrdup(k->value);
                return 0;
        }
        _cleanup_sb_ StrBuf b = {0};
        /* From a [DEFAULT] key, "here" is the directory of the section's file. */
        const char *src = k->file;
        if (x->section && ini_section_lookup(x->config, NULL, key) == k)
                src = x->section->file;
        _cleanup_free_ char *here = ini_file_dir(src);
        for (const char *p = k->value;;) {
                const char *h = strstr(p, "%(here)s");
                if (!h) {
                        sb_add(&b, p);
                        break;
                }
                sb_addn(&b, p, (size_t) (h - p));
                sb_add(&b, here);
                p = h + strlen("%(here)s");
        }
        if (!do_expand) {
                *ret = sb_take(&b);
                return 0;
        }
        _cleanup_free_ char *error = NULL;
        /* "here" is always available; it is the only name that varies by key. */
        expansions_set_str(e, "here", here);
        int r = expand_format(b.s ? b.s : "", e, ret, &error);
        if (r < 0)
                return key_fail(x, k, key, TAKE_PTR(error));
        return 0;
}

/* key_get() + a datatype conversion, for the many int/bool keys. */
/* key_get() for values that are only converted, not kept: a value without '%'
 * (nearly all) is used in place, without a copy. */
int key_view(const KeyCtx *x, const char *key, const char *def, Expansions *e, const char **ret,
                    char **ret_owned, const IniKey **ret_key) {
        const IniKey *k = ini_section_lookup(x->config, x->section, key);
        const char *raw = k ? k->value : def;
        *ret_owned = NULL;
        *ret_key = k;
        if (raw && !strchr(raw, '%')) {
                *ret = raw;
                return 0;
        }
        if (key_get(x, key, def, e, true, ret_owned, ret_key) < 0)
                return -EINVAL;
        *ret = *ret_owned;
        return 0;
}

/* key_view() + a datatype conversion: the shape of every int/bool key. */
typedef int (*Parse)(const char *s, void *ret, char **ret_error);

static int key_typed(const KeyCtx *x, const char *key, const char *def, Expansions *e, Parse parse, void *ret) {
        _cleanup_free_ char *owned = NULL;
        const char *v;
        const IniKey *k;
        if (key_view(x, key, def, e, &v, &owned, &k) < 0)
                return -EINVAL;
        char *error = NULL;
        if (parse(v, ret, &error) < 0)
                return key_fail(x, k, key, error);
        return 0;
}

static int parse_integer(const char *s, void *ret, char **ret_error) {
        return dt_integer(s, ret, ret_error);
}

static int parse_boolean(const char *s, void *ret, char **ret_error) {
        return dt_boolean(s, ret, ret_error);
}

static int parse_byte_size(const char *s, void *ret, char **ret_error) {
        return dt_byte_size(s, ret, ret_error);
}

int key_integer(const KeyCtx *x, const char *key, const char *def, Expansions *e, int64_t *ret) {
        return key_typed(x, key, def, e, parse_integer, ret);
}

int key_boolean(const KeyCtx *x, const char *key, const char *def, Expansions *e, bool *ret) {
        return key_typed(x, key, def, e, parse_boolean, ret);
}

int key_byte_size(const KeyCtx *x, const char *key, const char *def, Expansions *e) {
        int64_t unused;
        return key_typed(x, key, def, e, parse_byte_size, &unused);
}
