/* ini.h: supervisor's INI dialect, read on top of the system inih.
 *
 * supervisor reads every file into one Python RawConfigParser
 * (inline_comment_prefixes=(';', '#'), strict=False).  This module
 * reproduces that parser's behaviour line for line: continuation lines by
 * indentation (joined with "\n", trailing blank ones dropped), empty lines
 * inside values, comments at line start or after whitespace, keys
 * lower-cased, '=' or ':' (the first one) delimiting, the greedy section
 * header "[...]", repeated keys and sections merging with the last value
 * winning, and [DEFAULT] inherited by every section.
 *
 * It does not interpret values (see datatypes.h, expand.h) nor decide what
 * a section means (program.h).  Where configparser would silently read
 * something that is almost certainly a mistake (non-ASCII whitespace, control
 * characters, a byte order mark, invalid UTF-8) we report the line and mark
 * the section broken instead, so that only that program is skipped. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct IniKey {
        char *name;          /* lower-cased */
        char *value;         /* continuation lines joined with "\n" */
        const char *file;    /* owned by IniConfig.files */
        unsigned line;       /* the line of "name = ..." */
} IniKey;

typedef struct IniSection {
        char *name;
        const char *file;    /* where it first appeared */
        unsigned line;
        IniKey *keys;
        size_t n_keys, cap_keys;
        bool broken;         /* a line in it could not be read; already reported */
        const char *broken_file;   /* the first such line */
        unsigned broken_line;
} IniSection;

typedef struct IniConfig {
        IniSection **sections;   /* in order of first appearance, [DEFAULT] excluded */
        size_t n_sections;
        IniSection defaults;
        char **files;            /* every file read, absolute paths */
        size_t n_files;
        size_t *index;           /* hash of section names: position + 1, 0 = empty */
        size_t index_cap;
} IniConfig;

/* Reads one file into the config, merging with what is there.  Returns 0
 * when the file was read (possibly with broken sections, already logged),
 * -errno when it could not be read at all (logged). */
int ini_config_read_file(IniConfig *c, const char *path);
/* Same on a buffer in memory; path names it in messages. */
int ini_config_read_buffer(IniConfig *c, const char *path, const char *data, size_t size);

IniSection *ini_config_find(const IniConfig *c, const char *name);
/* The key in the section, else in [DEFAULT], else NULL. */
const IniKey *ini_section_lookup(const IniConfig *c, const IniSection *s, const char *key);
void ini_config_done(IniConfig *c);

/* "/etc/supervisor.d/blog.ini" -> "/etc/supervisor.d" (newly allocated). */
char *ini_file_dir(const char *file);
