/*
 * Optional C accelerator for h2lite's hot path.
 *
 * split_frames() mirrors h2lite._codec_py.split_frames exactly; the Python
 * version is the specification and the differential tests hold the two
 * together.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
split_frames(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    unsigned long long max_frame_size;
    PyObject *frames = NULL, *result = NULL;
    Py_ssize_t pos = 0, end;
    long long bad_length = -1;
    const unsigned char *buf;

    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "split_frames() takes exactly 2 arguments");
        return NULL;
    }
    max_frame_size = PyLong_AsUnsignedLongLong(args[1]);
    if (max_frame_size == (unsigned long long)-1 && PyErr_Occurred()) {
        return NULL;
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
        unsigned long stream_id = (((unsigned long)h[5] & 0x7F) << 24) | ((unsigned long)h[6] << 16)
                                  | ((unsigned long)h[7] << 8) | h[8];
        PyObject *payload, *frame;

        if (length > max_frame_size) {
            bad_length = (long long)length;
            break;
        }
        if ((Py_ssize_t)length > end - pos - 9) {
            break;
        }
        payload = PyBytes_FromStringAndSize((const char *)h + 9, (Py_ssize_t)length);
        if (payload == NULL) {
            goto done;
        }
        frame = Py_BuildValue("(kkkN)", (unsigned long)h[3], (unsigned long)h[4], stream_id, payload);
        if (frame == NULL) {
            goto done;
        }
        if (PyList_Append(frames, frame) < 0) {
            Py_DECREF(frame);
            goto done;
        }
        Py_DECREF(frame);
        pos += 9 + (Py_ssize_t)length;
    }
    result = Py_BuildValue("(OnL)", frames, pos, bad_length);
done:
    Py_XDECREF(frames);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef speedups_methods[] = {
    {"split_frames", (PyCFunction)(void (*)(void))split_frames, METH_FASTCALL,
     "split_frames(buffer, max_frame_size) -> (frames, consumed, bad_length)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "h2lite._speedups", "C accelerator for h2lite's hot path.", -1, speedups_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModule_Create(&speedups_module);
}
