/* filewrap.c: see filewrap.h.  Reference ownership: every PyObject * local
 * is a new reference released in the same function unless marked
 * borrowed. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filewrap.h"

#include <structmember.h>

/* PEP 3333's example and wsgiref's default. */
#define FILEWRAP_BLKSIZE 8192

typedef struct FileWrapper {
        PyObject_HEAD
        PyObject *filelike;      /* owned */
        Py_ssize_t blksize;
} FileWrapper;

static PyTypeObject filewrap_type_object;

static PyObject *filewrap_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
        static char *kwlist[] = { "filelike", "blksize", NULL };
        PyObject *filelike;      /* borrowed */
        Py_ssize_t blksize = FILEWRAP_BLKSIZE;
        if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|n:file_wrapper", kwlist, &filelike, &blksize))
                return NULL;
        if (blksize <= 0) {
                PyErr_Format(PyExc_ValueError, "file_wrapper() blksize must be positive, not %zd", blksize);
                return NULL;
        }
        FileWrapper *fw = (FileWrapper *) type->tp_alloc(type, 0);
        if (!fw)
                return NULL;
        fw->filelike = Py_NewRef(filelike);
        fw->blksize = blksize;
        return (PyObject *) fw;
}

static int filewrap_traverse(PyObject *self, visitproc visit, void *arg) {
        Py_VISIT(((FileWrapper *) self)->filelike);
        return 0;
}

static int filewrap_clear(PyObject *self) {
        Py_CLEAR(((FileWrapper *) self)->filelike);
        return 0;
}

static void filewrap_dealloc(PyObject *self) {
        PyObject_GC_UnTrack(self);
        (void) filewrap_clear(self);
        Py_TYPE(self)->tp_free(self);
}

static PyObject *filewrap_iternext(PyObject *self) {
        FileWrapper *fw = (FileWrapper *) self;
        if (!fw->filelike)
                return NULL;
        PyObject *data = PyObject_CallMethod(fw->filelike, "read", "n", fw->blksize);
        if (!data)
                return NULL;
        /* b"" (or any empty result) ends it; anything else, even a str, is
         * the app's to answer for (wsgi.c refuses non-bytes) */
        Py_ssize_t n = PyObject_Length(data);
        if (n == 0) {
                Py_DECREF(data);
                return NULL;
        }
        PyErr_Clear();   /* no len(): not empty */
        return data;
}

static PyObject *filewrap_close(PyObject *self, PyObject *Py_UNUSED(ignored)) {
        FileWrapper *fw = (FileWrapper *) self;
        if (!fw->filelike)
                Py_RETURN_NONE;
        PyObject *close = PyObject_GetAttrString(fw->filelike, "close");
        if (!close) {
                if (!PyErr_ExceptionMatches(PyExc_AttributeError))
                        return NULL;
                PyErr_Clear();
                Py_RETURN_NONE;
        }
        PyObject *r = PyObject_CallNoArgs(close);
        Py_DECREF(close);
        return r;
}

static PyMethodDef filewrap_methods[] = {
        { "close", filewrap_close, METH_NOARGS, "close(): filelike.close(), if it has one" },
        { NULL }
};

static PyMemberDef filewrap_members[] = {
        { "filelike", T_OBJECT, offsetof(FileWrapper, filelike), READONLY, NULL },
        { "blksize", T_PYSSIZET, offsetof(FileWrapper, blksize), READONLY, NULL },
        { NULL }
};

static PyTypeObject filewrap_type_object = {
        PyVarObject_HEAD_INIT(NULL, 0)
        .tp_name = "unitcorn.FileWrapper",
        .tp_basicsize = sizeof(FileWrapper),
        .tp_dealloc = filewrap_dealloc,
        .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
        .tp_doc = "wsgi.file_wrapper(filelike, blksize=8192): an iterable over filelike, sent "
                  "with sendfile(2) when it is a regular file",
        .tp_traverse = filewrap_traverse,
        .tp_clear = filewrap_clear,
        .tp_iter = PyObject_SelfIter,
        .tp_iternext = filewrap_iternext,
        .tp_methods = filewrap_methods,
        .tp_members = filewrap_members,
        .tp_new = filewrap_new,
};

int filewrap_type_ready(void) {
        return PyType_Ready(&filewrap_type_object);
}

PyObject *filewrap_type(void) {
        return (PyObject *) &filewrap_type_object;
}

/* obj.name() as a C long >= 0, or -1 (no exception left). */
static long call_long(PyObject *obj, const char *name) {
        PyObject *v = PyObject_CallMethod(obj, name, NULL);
        long n = v && PyLong_Check(v) ? PyLong_AsLong(v) : -1;
        Py_XDECREF(v);
        PyErr_Clear();
        return n < 0 ? -1 : n;
}

int filewrap_file(PyObject *result, int *ret_fd, off_t *ret_offset, off_t *ret_size) {
        if (!Py_IS_TYPE(result, &filewrap_type_object))
                return 0;
        PyObject *filelike = ((FileWrapper *) result)->filelike;   /* borrowed */
        if (!filelike)
                return 0;
        /* io.BytesIO and the like raise io.UnsupportedOperation here */
        long fd = call_long(filelike, "fileno");
        if (fd < 0 || fd > INT_MAX)
                return 0;
        struct stat st;
        int flags = fcntl((int) fd, F_GETFL);
        if (fstat((int) fd, &st) < 0 || !S_ISREG(st.st_mode) || flags < 0 || (flags & O_ACCMODE) == O_WRONLY)
                return 0;
        /* tell(), not the descriptor's offset: a buffered file object may
         * have read ahead of its logical position */
        off_t offset = PyObject_HasAttrString(filelike, "tell") ? call_long(filelike, "tell") : -1;
        if (offset < 0)
                offset = lseek((int) fd, 0, SEEK_CUR);
        if (offset < 0)
                return 0;
        int copy = fcntl((int) fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
                return 0;
        *ret_fd = copy;
        *ret_offset = offset;
        *ret_size = st.st_size;
        return 1;
}
