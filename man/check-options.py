#!/usr/bin/python3
"""Checks that every option a program's --help prints is in its man page.

usage: check-options.py PROGRAM PAGE [PROGRAM PAGE...]

PAGE is the roff scdoc wrote.  An option counts as documented when it
is, as a whole word, in the term of an entry of the page's OPTIONS
section (fonts and escapes removed): a mention elsewhere does not count.
Prints TAP; exit status 1 if any option is missing.
"""
import re
import subprocess
import sys

OPTION = re.compile(r'(?<![\w-])(--?[A-Za-z][\w-]*)')


def option_terms(path):
    """The term lines of the page's OPTIONS section, as text: scdoc writes
    a definition's term as the line before its ".RS" indent."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().splitlines()
    terms, in_options = [], False
    for line, following in zip(lines, lines[1:] + ['']):
        if line.startswith('.SH '):
            in_options = line == '.SH OPTIONS'
        elif in_options and following.startswith('.RS'):
            terms.append(line)
    # fonts (\fB \fI \fR), \& and \- are the escapes scdoc writes around
    # words; \e is a backslash
    text = re.sub(r'\\f(\(..|\[[^]]*\]|.)', '', '\n'.join(terms))
    return text.replace('\\&', '').replace('\\-', '-').replace('\\e', '\\')


def help_options(program):
    out = subprocess.run([program, '--help'], capture_output=True, text=True, check=True).stdout
    options = []
    for line in out.splitlines():
        # only the option columns: the start of an indented line, up to
        # the description (two spaces)
        m = re.match(r'^\s+(-.*?)(?:\s{2,}|$)', line)
        if not m:
            continue
        for opt in OPTION.findall(m.group(1)):
            if opt not in options:
                options.append(opt)
    # a usage line's options (the generator's --dry-run)
    for opt in re.findall(r'(?<![\w-])(--[a-z][\w-]*)', out):
        if opt not in options:
            options.append(opt)
    return options


def main(argv):
    pairs = list(zip(argv[1::2], argv[2::2]))
    if not pairs or len(argv) % 2 != 1:
        sys.exit(__doc__)
    checks = []
    for program, page in pairs:
        text = option_terms(page)
        options = help_options(program)
        checks.append((f'{page}: {program} --help lists options', len(options) > 0, ''))
        for opt in options:
            found = re.search(r'(?<![\w-])' + re.escape(opt) + r'(?![\w-])', text) is not None
            checks.append((f'{page} documents {opt}', found,
                           f'{opt} is in `{program} --help` but has no entry in the OPTIONS of {page}'))
    print(f'1..{len(checks)}')
    failed = 0
    for i, (name, ok, why) in enumerate(checks, 1):
        print(f'{"ok" if ok else "not ok"} {i} - {name}')
        if not ok:
            print(f'# {why}')
            failed += 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
