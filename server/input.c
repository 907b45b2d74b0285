/* input.c: see input.h.  The methods follow io.BufferedReader's: a size of
 * None or a negative one means "all"; readline() stops after b"\n".
 *
 * A spooled body is read through a window (buf[bstart .. bend)) of at most
 * INPUT_READ_PIECE bytes; reads larger than that go straight from the file
 * into the bytes object returned.  The GIL is released around each
 * pread(2). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <unistd.h>

#include "input.h"

#define INPUT_READ_PIECE (64 * 1024)
/* One pread(2) at most (Linux caps a read at about 2 GiB). */
#define INPUT_PREAD_MAX (1 << 30)

typedef struct Input {
        PyObject_HEAD
        PyObject *data;          /* bytes, owned: the body in memory; NULL when spooled */
        Py_ssize_t pos;          /* in data */
        int fd;                  /* the spool file (our own dup), or -1 */
        uint64_t size;           /* its length */
        uint64_t fpos;           /* the file offset of bend */
        char *buf;               /* INPUT_READ_PIECE bytes, allocated at the first read */
        size_t bstart, bend;
} Input;

static void input_dealloc(PyObject *self) {
        Input *in = (Input *) self;
        Py_XDECREF(in->data);
        if (in->fd >= 0)
                close(in->fd);
        free(in->buf);
        Py_TYPE(self)->tp_free(self);
}

/* size argument: None or missing -> -1. */
static int parse_size(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t *ret) {
        *ret = -1;
        if (nargs > 1) {
                PyErr_SetString(PyExc_TypeError, "expected at most one argument");
                return -1;
        }
        if (nargs == 0 || args[0] == Py_None)
                return 0;
        Py_ssize_t n = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
        if (n == -1 && PyErr_Occurred())
                return -1;
        *ret = n;
        return 0;
}

/* ---- a body in memory ---- */

static Py_ssize_t remaining(const Input *in) {
        return PyBytes_GET_SIZE(in->data) - in->pos;
}

static PyObject *take(Input *in, Py_ssize_t n) {
        /* the whole body in one read: hand out the same bytes object */
        if (in->pos == 0 && n == PyBytes_GET_SIZE(in->data)) {
                in->pos = n;
                return Py_NewRef(in->data);
        }
        PyObject *b = PyBytes_FromStringAndSize(PyBytes_AS_STRING(in->data) + in->pos, n);
        if (b)
                in->pos += n;
        return b;
}

static Py_ssize_t line_length(const Input *in, Py_ssize_t limit) {
        Py_ssize_t left = remaining(in);
        if (limit >= 0 && limit < left)
                left = limit;
        const char *start = PyBytes_AS_STRING(in->data) + in->pos;
        const char *nl = memchr(start, '\n', (size_t) left);
        return nl ? nl - start + 1 : left;
}

/* ---- a spooled body ---- */

static uint64_t spool_left(const Input *in) {
        return (uint64_t) (in->bend - in->bstart) + (in->size - in->fpos);
}

/* pread(2) without the GIL.  Returns the bytes read, or -1 with an
 * exception set; a file shorter than the body it holds is an error. */
static ssize_t spool_pread(Input *in, char *p, size_t n) {
        ssize_t r;
        for (;;) {
                Py_BEGIN_ALLOW_THREADS
                r = pread(in->fd, p, n, (off_t) in->fpos);
                Py_END_ALLOW_THREADS
                if (r >= 0 || errno != EINTR)
                        break;
        }
        if (r < 0) {
                PyErr_SetFromErrno(PyExc_OSError);
                return -1;
        }
        if (r == 0) {
                PyErr_SetString(PyExc_OSError, "the request body's spool file ended early");
                return -1;
        }
        in->fpos += (uint64_t) r;
        return r;
}

/* Refills the (empty) window.  Returns 1, 0 at the end of the body, -1
 * with an exception set. */
static int spool_refill(Input *in) {
        if (in->fpos >= in->size)
                return 0;
        if (!in->buf && !(in->buf = malloc(INPUT_READ_PIECE))) {
                PyErr_NoMemory();
                return -1;
        }
        uint64_t n = MIN(in->size - in->fpos, (uint64_t) INPUT_READ_PIECE);
        ssize_t r = spool_pread(in, in->buf, (size_t) n);
        if (r < 0)
                return -1;
        in->bstart = 0;
        in->bend = (size_t) r;
        return 1;
}

static PyObject *spool_read(Input *in, uint64_t want) {
        if (want > PY_SSIZE_T_MAX)
                return PyErr_NoMemory();
        PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t) want);
        if (!b)
                return NULL;
        char *d = PyBytes_AS_STRING(b);
        uint64_t done = 0;
        while (done < want) {
                size_t win = in->bend - in->bstart;
                /* a small read from an empty window: a whole piece into the
                 * window; a large one: straight into the result */
                if (win == 0 && want - done < INPUT_READ_PIECE) {
                        if (spool_refill(in) <= 0)
                                goto fail;
                        win = in->bend - in->bstart;
                }
                if (win > 0) {
                        size_t n = (size_t) MIN((uint64_t) win, want - done);
                        memcpy(d + done, in->buf + in->bstart, n);
                        in->bstart += n;
                        done += n;
                        continue;
                }
                ssize_t r = spool_pread(in, d + done, (size_t) MIN(want - done, (uint64_t) INPUT_PREAD_MAX));
                if (r < 0)
                        goto fail;
                done += (uint64_t) r;
        }
        return b;
fail:
        if (!PyErr_Occurred())
                PyErr_SetString(PyExc_OSError, "the request body's spool file ended early");
        Py_DECREF(b);
        return NULL;
}

/* A line (up to and with b"\n"), at most limit bytes (negative: none).  A
 * line within the window is copied once; one across windows is gathered
 * first. */
static PyObject *spool_readline(Input *in, Py_ssize_t limit) {
        uint64_t max = limit < 0 ? UINT64_MAX : (uint64_t) limit;
        _cleanup_sb_ StrBuf acc = {0};
        while (acc.len < max) {
                if (in->bend == in->bstart) {
                        int r = spool_refill(in);
                        if (r < 0)
                                return NULL;
                        if (r == 0)
                                break;
                }
                const char *p = in->buf + in->bstart;
                size_t n = (size_t) MIN((uint64_t) (in->bend - in->bstart), max - acc.len);
                const char *nl = memchr(p, '\n', n);
                if (nl)
                        n = (size_t) (nl - p) + 1;
                in->bstart += n;
                if (acc.len == 0 && (nl || n == max))
                        return PyBytes_FromStringAndSize(p, (Py_ssize_t) n);
                sb_addn(&acc, p, n);
                if (nl)
                        break;
        }
        return PyBytes_FromStringAndSize(acc.s ? acc.s : "", (Py_ssize_t) acc.len);
}

/* ---- the methods ---- */

static PyObject *read_line(Input *in, Py_ssize_t limit) {
        if (!in->data)
                return spool_readline(in, limit);
        return take(in, line_length(in, limit));
}

static bool at_end(const Input *in) {
        return in->data ? remaining(in) == 0 : spool_left(in) == 0;
}

static PyObject *input_read(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
        Input *in = (Input *) self;
        Py_ssize_t size;
        if (parse_size(args, nargs, &size) < 0)
                return NULL;
        if (!in->data) {
                uint64_t left = spool_left(in);
                return spool_read(in, size < 0 || (uint64_t) size > left ? left : (uint64_t) size);
        }
        Py_ssize_t left = remaining(in);
        return take(in, size < 0 || size > left ? left : size);
}

static PyObject *input_readline(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
        Py_ssize_t size;
        if (parse_size(args, nargs, &size) < 0)
                return NULL;
        return read_line((Input *) self, size);
}

static PyObject *input_readlines(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
        Input *in = (Input *) self;
        Py_ssize_t hint;
        if (parse_size(args, nargs, &hint) < 0)
                return NULL;
        PyObject *list = PyList_New(0);
        if (!list)
                return NULL;
        Py_ssize_t total = 0;
        while (!at_end(in) && (hint <= 0 || total < hint)) {
                PyObject *line = read_line(in, -1);
                if (!line || PyList_Append(list, line) < 0) {
                        Py_XDECREF(line);
                        Py_DECREF(list);
                        return NULL;
                }
                total += PyBytes_GET_SIZE(line);
                Py_DECREF(line);
        }
        return list;
}

static PyObject *input_iternext(PyObject *self) {
        Input *in = (Input *) self;
        if (at_end(in))
                return NULL;     /* StopIteration, no exception set */
        return read_line(in, -1);
}

static PyMethodDef input_methods[] = {
        { "read",      (PyCFunction) (void (*)(void)) input_read,      METH_FASTCALL, NULL },
        { "readline",  (PyCFunction) (void (*)(void)) input_readline,  METH_FASTCALL, NULL },
        { "readlines", (PyCFunction) (void (*)(void)) input_readlines, METH_FASTCALL, NULL },
        { NULL }
};

static PyTypeObject input_type = {
        PyVarObject_HEAD_INIT(NULL, 0)
        .tp_name = "unitcorn.Input",
        .tp_basicsize = sizeof(Input),
        .tp_dealloc = input_dealloc,
        .tp_flags = Py_TPFLAGS_DEFAULT,
        .tp_doc = "wsgi.input: the request body",
        .tp_iter = PyObject_SelfIter,
        .tp_iternext = input_iternext,
        .tp_methods = input_methods,
};

int input_type_ready(void) {
        return PyType_Ready(&input_type);
}

PyObject *input_from_request(const HttpRequest *req) {
        Input *in = PyObject_New(Input, &input_type);
        if (!in)
                return NULL;
        in->data = NULL;
        in->pos = 0;
        in->fd = -1;
        in->size = in->fpos = 0;
        in->buf = NULL;
        in->bstart = in->bend = 0;
        if (req->spool_fd >= 0) {
                in->fd = fcntl(req->spool_fd, F_DUPFD_CLOEXEC, 3);
                if (in->fd < 0) {
                        PyErr_SetFromErrno(PyExc_OSError);
                        Py_DECREF(in);
                        return NULL;
                }
                in->size = req->body_size;
                return (PyObject *) in;
        }
        in->data = PyBytes_FromStringAndSize(req->body.s, (Py_ssize_t) req->body.len);
        if (!in->data) {
                Py_DECREF(in);
                return NULL;
        }
        return (PyObject *) in;
}
