/*
 * Declarations shared by the parts of h2lite's C accelerator.
 *
 *   _speedups.c         module set-up and split_frames()
 *   _speedups_hpack.c   HPACK: Huffman code, Decoder and Encoder types
 *   _speedups_fields.c  RFC 9113 §8 field checks and outbound preparation
 *
 * Each part mirrors a pure-Python function or class that remains the
 * specification; tests/test_speedups_*.py hold the two together.
 */
#ifndef H2LITE_SPEEDUPS_H
#define H2LITE_SPEEDUPS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* hpack's header tuple classes, looked up once when the module loads. */
extern PyTypeObject *h2l_HeaderTuple;
extern PyTypeObject *h2l_NeverIndexedHeaderTuple;

/* A HeaderTuple (or ``type``, a subclass) holding ``name`` and ``value``; steals both references. */
PyObject *h2l_header_tuple(PyTypeObject *type, PyObject *name, PyObject *value);

/* Set-up of each part; 0 on success, -1 with an exception set. */
int h2l_hpack_init(PyObject *module);
int h2l_fields_init(PyObject *module);

extern PyMethodDef h2l_hpack_methods[];
extern PyMethodDef h2l_fields_methods[];

#endif /* H2LITE_SPEEDUPS_H */
