/*
 * Declarations shared by the parts of h2lite's C accelerator.
 *
 *   _speedups.c          module set-up and split_frames()
 *   _speedups_huffman.c  the HPACK Huffman code
 *   _speedups_hpack.c    HPACK Decoder type, and what the HPACK parts share
 *   _speedups_encoder.c  HPACK Encoder type
 *   _speedups_fields.c   RFC 9113 §8 field checks and outbound preparation
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
int h2l_hpack_init(PyObject *module);     /* also sets up the Encoder */
int h2l_encoder_init(PyObject *module);
int h2l_fields_init(PyObject *module);

/* Take hpack's classes, exceptions and static table (and h2lite.headers'
 * MalformedHeaders) afresh from the modules now imported; see _rebind(). */
int h2l_hpack_bind(void);
void h2l_fields_unbind(void);

extern PyMethodDef h2l_huffman_methods[];
extern PyMethodDef h2l_fields_methods[];

/* -- shared by the HPACK parts ------------------------------------------------ */

/* hpack's HPACKDecodingError. */
extern PyObject *h2l_HPACKDecodingError;

/* RFC 7541 Appendix A: the static table as HeaderTuples, and name -> first index (an int). */
#define H2L_STATIC_ENTRIES 61
extern PyObject *h2l_static_headers[H2L_STATIC_ENTRIES];
extern PyObject *h2l_static_names;

/* RFC 7541 §4.1: an entry's size is its name and value lengths plus 32. */
#define H2L_ENTRY_OVERHEAD 32

/* int(value) as a long long, as hpack's HeaderTable.maxsize setter converts it. */
int h2l_table_size_from(PyObject *value, long long *out);

/* The Huffman code (RFC 7541 §5.2). */
void h2l_huffman_init(void);
Py_ssize_t h2l_huffman_encoded_size(const unsigned char *data, Py_ssize_t size);
/* Writes exactly h2l_huffman_encoded_size(data, size) bytes. */
void h2l_huffman_encode(const unsigned char *data, Py_ssize_t size, unsigned char *out);
/* out has room for size * 8 / 5 + 1 bytes; -1 with HPACKDecodingError set. */
Py_ssize_t h2l_huffman_decode(const unsigned char *in, Py_ssize_t size, unsigned char *out);

#endif /* H2LITE_SPEEDUPS_H */
