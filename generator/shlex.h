/* shlex.h: the two tokenisers supervisor uses, reproduced exactly.
 *
 * shlex_split() is Python's shlex.split(s) (posix mode, whitespace split,
 * no comments): supervisor splits command= with it when it spawns.
 *
 * shlex_env_pairs() is supervisor's datatypes.dict_of_key_value_pairs():
 * a non-posix shlex.shlex lexer ('#' comments, quotes kept in tokens,
 * wordchars extended by "/.+-():"), read in steps of four tokens
 * (KEY, '=', VALUE, separator) with quotes stripped from both ends of
 * VALUE.  The separator is not checked by supervisor; we report the
 * tokens it drops that way through ret_dropped. */
#pragma once

int shlex_split(const char *s, char ***ret, char **ret_error);

typedef struct EnvPair {
        char *key;
        char *value;
} EnvPair;

typedef struct EnvPairs {
        EnvPair *pairs;   /* in order; a repeated key keeps its first place, last value */
        size_t n;
} EnvPairs;

int shlex_env_pairs(const char *s, EnvPairs *ret, char ***ret_dropped, char **ret_error);
void env_pairs_set(EnvPairs *p, const char *key, const char *value);
const char *env_pairs_get(const EnvPairs *p, const char *key);
void env_pairs_done(EnvPairs *p);
