/*
 * Optional C accelerator for h2lite's hot path.
 *
 * Every function and class here mirrors a pure-Python one that remains the
 * specification (see _speedups.h for which file holds what); the
 * differential tests in tests/test_speedups_*.py hold the two together.
 * This file holds the module set-up and split_frames(), the mirror of
 * h2lite._codec_py.split_frames.
 */
#include "_speedups.h"

PyTypeObject *h2l_HeaderTuple;
PyTypeObject *h2l_NeverIndexedHeaderTuple;

PyObject *
h2l_header_tuple(PyTypeObject *type, PyObject *name, PyObject *value)
{
    /* What tuple.__new__(type, (name, value)) builds, without the argument tuple. */
    PyObject *header = type->tp_alloc(type, 2);

    if (header == NULL) {
        Py_DECREF(name);
        Py_DECREF(value);
        return NULL;
    }
    PyTuple_SET_ITEM(header, 0, name);
    PyTuple_SET_ITEM(header, 1, value);
    if (PyBytes_CheckExact(name) && PyBytes_CheckExact(value)) {
        /* Two bytes objects cannot be part of a reference cycle: keep the
         * collector from visiting the tuple (it does the same for plain tuples). */
        PyObject_GC_UnTrack(header);
    }
    return header;
}

static PyObject *
split_frames(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    long long max_frame_size;
    int overflow;
    PyObject *frames = NULL, *result = NULL;
    Py_ssize_t pos = 0, end;
    long long bad_length = -1;
    const unsigned char *buf;

    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "split_frames() takes exactly 2 arguments");
        return NULL;
    }
    /* Any int, as the Python version compares with any int. */
    max_frame_size = PyLong_AsLongLongAndOverflow(args[1], &overflow);
    if (max_frame_size == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (overflow) {
        max_frame_size = overflow > 0 ? LLONG_MAX : LLONG_MIN;
    }
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    frames = PyList_New(0);
    if (frames == NULL) {
        goto done;
    }
    buf = (const unsigned char *)view.buf;
    end = view.len;
    while (end - pos >= 9) {
        const unsigned char *h = buf + pos;
        unsigned long length = ((unsigned long)h[0] << 16) | ((unsigned long)h[1] << 8) | h[2];
        /* RFC 9113 §4.1: the reserved bit MUST be ignored on receipt. */
        unsigned long stream_id = (((unsigned long)h[5] & 0x7F) << 24) | ((unsigned long)h[6] << 16)
                                  | ((unsigned long)h[7] << 8) | h[8];
        PyObject *frame;
        int appended;

        if ((long long)length > max_frame_size) {
            /* RFC 9113 §4.2: judged on the header, before the payload is needed. */
            bad_length = (long long)length;
            break;
        }
        if ((Py_ssize_t)length > end - pos - 9) {
            break;
        }
        frame = PyTuple_New(4);
        if (frame == NULL) {
            goto done;
        }
        PyTuple_SET_ITEM(frame, 0, PyLong_FromLong(h[3]));
        PyTuple_SET_ITEM(frame, 1, PyLong_FromLong(h[4]));
        PyTuple_SET_ITEM(frame, 2, PyLong_FromUnsignedLong(stream_id));
        PyTuple_SET_ITEM(frame, 3, PyBytes_FromStringAndSize((const char *)h + 9, (Py_ssize_t)length));
        if (PyTuple_GET_ITEM(frame, 0) == NULL || PyTuple_GET_ITEM(frame, 1) == NULL
            || PyTuple_GET_ITEM(frame, 2) == NULL || PyTuple_GET_ITEM(frame, 3) == NULL) {
            Py_DECREF(frame);
            goto done;
        }
        appended = PyList_Append(frames, frame);
        Py_DECREF(frame);
        if (appended < 0) {
            goto done;
        }
        pos += 9 + (Py_ssize_t)length;
    }
    result = Py_BuildValue("(OnL)", frames, pos, bad_length);
done:
    Py_XDECREF(frames);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef split_methods[] = {
    {"split_frames", (PyCFunction)(void (*)(void))split_frames, METH_FASTCALL,
     "split_frames(buffer, max_frame_size) -> (frames, consumed, bad_length)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "h2lite._speedups", "C accelerator for h2lite's hot path.", -1, NULL,
    NULL, NULL, NULL, NULL,
};

/* hpack's HeaderTuple classes, checked to be plain tuples underneath. */
static PyTypeObject *
load_tuple_class(PyObject *hpack, const char *name)
{
    PyObject *cls = PyObject_GetAttrString(hpack, name);

    if (cls == NULL) {
        return NULL;
    }
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &PyTuple_Type)
        || ((PyTypeObject *)cls)->tp_basicsize != PyTuple_Type.tp_basicsize
        || ((PyTypeObject *)cls)->tp_itemsize != PyTuple_Type.tp_itemsize) {
        PyErr_Format(PyExc_ImportError, "hpack.%s is not a slot-less tuple subclass", name);
        Py_DECREF(cls);
        return NULL;
    }
    return (PyTypeObject *)cls;
}

/* hpack's tuple classes, from the hpack module imported now. */
static int
bind_tuple_classes(void)
{
    PyObject *hpack = PyImport_ImportModule("hpack");

    if (hpack == NULL) {
        return -1;
    }
    Py_XSETREF(h2l_HeaderTuple, load_tuple_class(hpack, "HeaderTuple"));
    Py_XSETREF(h2l_NeverIndexedHeaderTuple, h2l_HeaderTuple ? load_tuple_class(hpack, "NeverIndexedHeaderTuple") : NULL);
    Py_DECREF(hpack);
    return h2l_NeverIndexedHeaderTuple == NULL ? -1 : 0;
}

/* A C extension is initialised once per process, but the Python modules it
 * takes classes from can be purged from sys.modules and imported again (test
 * tools, coverage's source lookup, importlib.reload).  _backend calls this on
 * every import of itself, so identity checks (NeverIndexedHeaderTuple) and the
 * exceptions raised always match the classes the Python code now uses. */
static PyObject *
rebind(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(unused))
{
    if (bind_tuple_classes() < 0 || h2l_hpack_bind() < 0) {
        return NULL;
    }
    h2l_fields_unbind();
    Py_RETURN_NONE;
}

static PyMethodDef bind_methods[] = {
    {"_rebind", rebind, METH_NOARGS, "_rebind() -> None: take hpack's classes afresh from sys.modules"},
    {NULL, NULL, 0, NULL},
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    PyObject *module = NULL;

    if (bind_tuple_classes() < 0) {
        return NULL;
    }
    module = PyModule_Create(&speedups_module);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddFunctions(module, split_methods) < 0 || PyModule_AddFunctions(module, bind_methods) < 0
        || PyModule_AddFunctions(module, h2l_huffman_methods) < 0
        || PyModule_AddFunctions(module, h2l_fields_methods) < 0 || h2l_hpack_init(module) < 0
        || h2l_fields_init(module) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
