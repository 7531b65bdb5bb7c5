/*
 * HPACK (RFC 7541) for h2lite's C accelerator.
 *
 * Decoder mirrors h2lite._hpack.Decoder, which is the specification: the same
 * header lists (HeaderTuple and NeverIndexedHeaderTuple), the same dynamic
 * table, and the same hpack exception, with the same message, for the same bad
 * input, raised at the same point (so the table is left in the same state).
 * This file also loads what the HPACK parts share (hpack's exceptions and
 * static table); the Encoder is in _speedups_encoder.c, the Huffman code in
 * _speedups_huffman.c.
 */
#include "_speedups.h"

#include <string.h>

/* hpack's exception classes. */
PyObject *h2l_HPACKDecodingError;
static PyObject *InvalidTableIndex;
static PyObject *OversizedHeaderListError;
static PyObject *InvalidTableSizeError;

PyObject *h2l_static_headers[H2L_STATIC_ENTRIES];
PyObject *h2l_static_names;

/* -- integers (RFC 7541 §5.1) -------------------------------------------------- */

/* The rest of an integer whose prefix bits were all ones, as _hpack._continue_integer. */
static int
continue_integer(const unsigned char *data, Py_ssize_t end, Py_ssize_t *pos, long long *value)
{
    int shift = 0;

    for (;;) {
        unsigned char byte;
        if (*pos >= end || shift > 28) {
            PyErr_SetString(h2l_HPACKDecodingError, "truncated or oversized integer");
            return -1;
        }
        byte = data[(*pos)++];
        *value += (long long)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) {
            return 0;
        }
        shift += 7;
    }
}

/* A Python int as long long, saturating; -1 with an exception for a non-integer. */
static int
saturating_long_long(PyObject *value, long long *out)
{
    int overflow;
    long long result;

    if (!PyLong_Check(value)) {
        PyErr_Format(PyExc_TypeError, "an integer is required, not %.200s", Py_TYPE(value)->tp_name);
        return -1;
    }
    result = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (result == -1 && PyErr_Occurred()) {
        return -1;
    }
    *out = overflow > 0 ? LLONG_MAX : overflow < 0 ? LLONG_MIN : result;
    return 0;
}

int
h2l_table_size_from(PyObject *value, long long *out)
{
    PyObject *number = PyNumber_Long(value);
    long long result;

    if (number == NULL) {
        return -1;
    }
    result = PyLong_AsLongLong(number);
    Py_DECREF(number);
    if (result == -1 && PyErr_Occurred()) {
        return -1;
    }
    *out = result;
    return 0;
}

/* -- Decoder ----------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject **ring;             /* HeaderTuple entries; entry 0 (the newest) at head */
    Py_ssize_t ring_capacity;    /* a power of two, or 0 */
    Py_ssize_t head;
    Py_ssize_t count;
    long long size;              /* RFC 7541 §4.1 size of the entries */
    long long maxsize;           /* header_table_size */
    PyObject *max_allowed;       /* max_allowed_table_size, as set */
    long long max_allowed_value;
    PyObject *max_list;          /* max_header_list_size, as set */
    long long max_list_value;
    unsigned char *scratch;      /* Huffman output */
    Py_ssize_t scratch_capacity;
} Decoder;

static PyTypeObject DecoderType;

static inline long long
header_size(PyObject *header)
{
    return H2L_ENTRY_OVERHEAD + PyBytes_GET_SIZE(PyTuple_GET_ITEM(header, 0))
           + PyBytes_GET_SIZE(PyTuple_GET_ITEM(header, 1));
}

static inline PyObject *
decoder_entry(Decoder *self, Py_ssize_t i)
{
    return self->ring[(self->head + i) & (self->ring_capacity - 1)];
}

static void
decoder_evict_oldest(Decoder *self)
{
    PyObject *oldest = decoder_entry(self, self->count - 1);
    self->count--;
    self->size -= header_size(oldest);
    Py_DECREF(oldest);
}

static void
decoder_clear(Decoder *self)
{
    while (self->count) {
        decoder_evict_oldest(self);
    }
    self->size = 0;
}

static void
decoder_shrink(Decoder *self)
{
    while (self->size > self->maxsize && self->count) {
        decoder_evict_oldest(self);
    }
}

/* hpack's HeaderTable.maxsize setter. */
static void
decoder_set_maxsize(Decoder *self, long long value)
{
    long long old = self->maxsize;

    self->maxsize = value;
    if (value <= 0) {
        decoder_clear(self);
    }
    else if (old > value) {
        decoder_shrink(self);
    }
}

/* hpack's HeaderTable.add: an entry larger than the table empties it. */
static int
decoder_add(Decoder *self, PyObject *header)
{
    long long size = header_size(header);

    if (size > self->maxsize) {
        decoder_clear(self);
        return 0;
    }
    if (self->count == self->ring_capacity) {
        Py_ssize_t capacity = self->ring_capacity ? self->ring_capacity * 2 : 16, i;
        PyObject **ring = PyMem_Malloc((size_t)capacity * sizeof(PyObject *));
        if (ring == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (i = 0; i < self->count; i++) {
            ring[i] = decoder_entry(self, i);
        }
        PyMem_Free(self->ring);
        self->ring = ring;
        self->ring_capacity = capacity;
        self->head = 0;
    }
    self->head = (self->head - 1) & (self->ring_capacity - 1);
    Py_INCREF(header);
    self->ring[self->head] = header;
    self->count++;
    self->size += size;
    decoder_shrink(self);
    return 0;
}

/* hpack's HeaderTable.get_by_index; a borrowed reference. */
static PyObject *
decoder_lookup(Decoder *self, long long index)
{
    if (index >= 1 && index <= H2L_STATIC_ENTRIES) {
        return h2l_static_headers[index - 1];
    }
    if (index > H2L_STATIC_ENTRIES && index - H2L_STATIC_ENTRIES - 1 < self->count) {
        return decoder_entry(self, (Py_ssize_t)(index - H2L_STATIC_ENTRIES - 1));
    }
    PyErr_Format(InvalidTableIndex, "Invalid table index %lld", index);
    return NULL;
}

/* RFC 7541 §5.2 string literal at *pos, as _hpack._string. */
static PyObject *
decoder_string(Decoder *self, const unsigned char *data, Py_ssize_t end, Py_ssize_t *pos)
{
    unsigned char first;
    long long length;
    Py_ssize_t start, decoded;

    if (*pos >= end) {
        PyErr_SetString(h2l_HPACKDecodingError, "Truncated header block");
        return NULL;
    }
    first = data[(*pos)++];
    length = first & 0x7F;
    if (length == 0x7F && continue_integer(data, end, pos, &length) < 0) {
        return NULL;
    }
    if (length > end - *pos) {
        PyErr_SetString(h2l_HPACKDecodingError, "Truncated header block");
        return NULL;
    }
    start = *pos;
    *pos += (Py_ssize_t)length;
    if (!(first & 0x80) || length == 0) {
        return PyBytes_FromStringAndSize((const char *)data + start, (Py_ssize_t)length);
    }
    if (length * 8 / 5 + 1 > self->scratch_capacity) {
        Py_ssize_t capacity = (Py_ssize_t)(length * 8 / 5 + 1);
        unsigned char *scratch = PyMem_Realloc(self->scratch, (size_t)capacity);
        if (scratch == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        self->scratch = scratch;
        self->scratch_capacity = capacity;
    }
    decoded = h2l_huffman_decode(data + start, (Py_ssize_t)length, self->scratch);
    if (decoded < 0) {
        return NULL;
    }
    return PyBytes_FromStringAndSize((const char *)self->scratch, decoded);
}

static int
decoder_decode_into(Decoder *self, const unsigned char *data, Py_ssize_t end, PyObject *headers)
{
    Py_ssize_t pos = 0;
    long long list_size = 0;

    while (pos < end) {
        unsigned char byte = data[pos++];
        PyObject *header;

        if (byte & 0x80) {
            /* RFC 7541 §6.1: indexed field. */
            long long index = byte & 0x7F;
            if (index == 0x7F && continue_integer(data, end, &pos, &index) < 0) {
                return -1;
            }
            header = decoder_lookup(self, index);
            if (header == NULL) {
                return -1;
            }
            Py_INCREF(header);
        }
        else if ((byte & 0xE0) == 0x20) {
            /* RFC 7541 §6.3: only at the start of a block. */
            long long new_size = byte & 0x1F;
            if (PyList_GET_SIZE(headers)) {
                PyErr_SetString(h2l_HPACKDecodingError, "Table size update not at the start of the block");
                return -1;
            }
            if (new_size == 0x1F && continue_integer(data, end, &pos, &new_size) < 0) {
                return -1;
            }
            if (new_size > self->max_allowed_value) {
                PyErr_SetString(InvalidTableSizeError, "Encoder exceeded max allowable table size");
                return -1;
            }
            decoder_set_maxsize(self, new_size);
            continue;
        }
        else {
            /* RFC 7541 §6.2: literal field, with incremental indexing (0x40),
             * without indexing or never indexed (0x10). */
            int indexed = byte & 0x40;
            long long index;
            PyObject *name, *value;
            if (indexed) {
                index = byte & 0x3F;
                if (index == 0x3F && continue_integer(data, end, &pos, &index) < 0) {
                    return -1;
                }
            }
            else {
                index = byte & 0x0F;
                if (index == 0x0F && continue_integer(data, end, &pos, &index) < 0) {
                    return -1;
                }
            }
            if (index) {
                PyObject *entry = decoder_lookup(self, index);
                if (entry == NULL) {
                    return -1;
                }
                name = PyTuple_GET_ITEM(entry, 0);
                Py_INCREF(name);
            }
            else {
                name = decoder_string(self, data, end, &pos);
                if (name == NULL) {
                    return -1;
                }
            }
            value = decoder_string(self, data, end, &pos);
            if (value == NULL) {
                Py_DECREF(name);
                return -1;
            }
            header = h2l_header_tuple((byte & 0x10) && !indexed ? h2l_NeverIndexedHeaderTuple : h2l_HeaderTuple,
                                      name, value);
            if (header == NULL) {
                return -1;
            }
            if (indexed && decoder_add(self, header) < 0) {
                Py_DECREF(header);
                return -1;
            }
        }
        list_size += header_size(header);
        if (list_size > self->max_list_value) {
            PyObject *message = PyUnicode_FromFormat("A header list larger than %S has been received",
                                                     self->max_list);
            if (message != NULL) {
                PyErr_SetObject(OversizedHeaderListError, message);
                Py_DECREF(message);
            }
            Py_DECREF(header);
            return -1;
        }
        if (PyList_Append(headers, header) < 0) {
            Py_DECREF(header);
            return -1;
        }
        Py_DECREF(header);
    }
    if (self->maxsize > self->max_allowed_value) {
        /* The table was shrunk below what the peer kept (hpack's _assert_valid_table_size). */
        PyErr_SetString(InvalidTableSizeError, "Encoder did not shrink table size to within the max");
        return -1;
    }
    return 0;
}

static PyObject *
Decoder_decode(Decoder *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *data = nargs > 0 ? args[0] : NULL, *headers;
    Py_ssize_t i, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    Py_buffer view;

    /* decode(data, raw=True); raw is accepted and ignored, as in the pure path. */
    if (nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "decode() takes at most 2 arguments");
        return NULL;
    }
    for (i = 0; i < nkw; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        if (PyUnicode_CompareWithASCIIString(key, "data") == 0 && data == NULL) {
            data = args[nargs + i];
        }
        else if (PyUnicode_CompareWithASCIIString(key, "raw") != 0 || nargs > 1) {
            PyErr_Format(PyExc_TypeError, "decode() got an unexpected keyword argument %R", key);
            return NULL;
        }
    }
    if (data == NULL) {
        PyErr_SetString(PyExc_TypeError, "decode() missing required argument 'data'");
        return NULL;
    }
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    headers = PyList_New(0);
    if (headers != NULL && decoder_decode_into(self, view.buf, view.len, headers) < 0) {
        Py_CLEAR(headers);
    }
    PyBuffer_Release(&view);
    return headers;
}

static PyObject *
Decoder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"max_header_list_size", NULL};
    PyObject *max_list = NULL;
    Decoder *self;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O!:Decoder", keywords, &PyLong_Type, &max_list)) {
        return NULL;
    }
    self = (Decoder *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->maxsize = 4096;  /* RFC 9113 §6.5.2: the initial SETTINGS_HEADER_TABLE_SIZE */
    self->max_allowed = PyLong_FromLong(4096);
    self->max_allowed_value = 4096;
    self->max_list = max_list ? Py_NewRef(max_list) : PyLong_FromLong(65536);
    if (self->max_allowed == NULL || self->max_list == NULL
        || saturating_long_long(self->max_list, &self->max_list_value) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void
Decoder_dealloc(Decoder *self)
{
    decoder_clear(self);
    PyMem_Free(self->ring);
    PyMem_Free(self->scratch);
    Py_XDECREF(self->max_allowed);
    Py_XDECREF(self->max_list);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Decoder_get_header_table_size(Decoder *self, void *closure)
{
    (void)closure;
    return PyLong_FromLongLong(self->maxsize);
}

static int
Decoder_set_header_table_size(Decoder *self, PyObject *value, void *closure)
{
    long long size;

    (void)closure;
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete header_table_size");
        return -1;
    }
    if (h2l_table_size_from(value, &size) < 0) {
        return -1;
    }
    decoder_set_maxsize(self, size);
    return 0;
}

static PyObject *
Decoder_get_limit(Decoder *self, void *closure)
{
    return Py_NewRef(closure ? self->max_list : self->max_allowed);
}

static int
Decoder_set_limit(Decoder *self, PyObject *value, void *closure)
{
    long long number;

    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete a limit");
        return -1;
    }
    if (saturating_long_long(value, &number) < 0) {
        return -1;
    }
    Py_INCREF(value);
    if (closure) {
        Py_SETREF(self->max_list, value);
        self->max_list_value = number;
    }
    else {
        Py_SETREF(self->max_allowed, value);
        self->max_allowed_value = number;
    }
    return 0;
}

static PyObject *
Decoder_get_dynamic_entries(Decoder *self, void *closure)
{
    PyObject *entries = PyList_New(self->count);
    Py_ssize_t i;

    (void)closure;
    for (i = 0; entries != NULL && i < self->count; i++) {
        PyObject *entry = decoder_entry(self, i);
        PyObject *pair = PyTuple_Pack(2, PyTuple_GET_ITEM(entry, 0), PyTuple_GET_ITEM(entry, 1));
        if (pair == NULL) {
            Py_CLEAR(entries);
            break;
        }
        PyList_SET_ITEM(entries, i, pair);
    }
    return entries;
}

static PyObject *
Decoder_get_current_size(Decoder *self, void *closure)
{
    (void)closure;
    return PyLong_FromLongLong(self->size);
}

static PyMethodDef Decoder_methods[] = {
    {"decode", (PyCFunction)(void (*)(void))Decoder_decode, METH_FASTCALL | METH_KEYWORDS,
     "decode(data, raw=True) -> list of HeaderTuple / NeverIndexedHeaderTuple"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Decoder_getset[] = {
    {"header_table_size", (getter)Decoder_get_header_table_size, (setter)Decoder_set_header_table_size,
     "The dynamic table's maximum size (RFC 7541 §4.2).", NULL},
    {"max_allowed_table_size", (getter)Decoder_get_limit, (setter)Decoder_set_limit,
     "The largest table size update the peer may send.", NULL},
    {"max_header_list_size", (getter)Decoder_get_limit, (setter)Decoder_set_limit,
     "The largest decoded header list (RFC 7541 §4.1 sizes).", (void *)1},
    {"dynamic_entries", (getter)Decoder_get_dynamic_entries, NULL,
     "The dynamic table's (name, value) entries, newest first.", NULL},
    {"current_size", (getter)Decoder_get_current_size, NULL,
     "The dynamic table's size in use (RFC 7541 §4.1).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject DecoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "h2lite._speedups.Decoder",
    .tp_basicsize = sizeof(Decoder),
    .tp_dealloc = (destructor)Decoder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "HPACK decoder with the state and behaviour of h2lite._hpack.Decoder.",
    .tp_methods = Decoder_methods,
    .tp_getset = Decoder_getset,
    .tp_new = Decoder_new,
};

/* -- set-up ------------------------------------------------------------------ */

static PyObject *
import_attribute(const char *module_name, const char *attribute)
{
    PyObject *module = PyImport_ImportModule(module_name), *result;

    if (module == NULL) {
        return NULL;
    }
    result = PyObject_GetAttrString(module, attribute);
    Py_DECREF(module);
    return result;
}

static int
load_static_table(void)
{
    PyObject *table_class = import_attribute("hpack.table", "HeaderTable"), *table;
    Py_ssize_t i;
    int result = -1;

    if (table_class == NULL) {
        return -1;
    }
    table = PyObject_GetAttrString(table_class, "STATIC_TABLE");
    Py_DECREF(table_class);
    if (table == NULL) {
        return -1;
    }
    /* A rebind (see h2l_hpack_bind) replaces the table built at import. */
    for (i = 0; i < H2L_STATIC_ENTRIES; i++) {
        Py_CLEAR(h2l_static_headers[i]);
    }
    Py_XSETREF(h2l_static_names, PyDict_New());
    if (h2l_static_names == NULL) {
        goto done;
    }
    if (!PyTuple_Check(table) || PyTuple_GET_SIZE(table) != H2L_STATIC_ENTRIES) {
        PyErr_SetString(PyExc_ImportError, "hpack's static table is not the one of RFC 7541");
        goto done;
    }
    for (i = 0; i < H2L_STATIC_ENTRIES; i++) {
        PyObject *entry = PyTuple_GET_ITEM(table, i), *index;
        if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 2 || !PyBytes_CheckExact(PyTuple_GET_ITEM(entry, 0))
            || !PyBytes_CheckExact(PyTuple_GET_ITEM(entry, 1))) {
            PyErr_SetString(PyExc_ImportError, "hpack's static table is not the one of RFC 7541");
            goto done;
        }
        h2l_static_headers[i] = h2l_header_tuple(h2l_HeaderTuple, Py_NewRef(PyTuple_GET_ITEM(entry, 0)),
                                             Py_NewRef(PyTuple_GET_ITEM(entry, 1)));
        if (h2l_static_headers[i] == NULL) {
            goto done;
        }
        if (PyDict_GetItemWithError(h2l_static_names, PyTuple_GET_ITEM(entry, 0)) != NULL) {
            continue;
        }
        if (PyErr_Occurred()) {
            goto done;
        }
        index = PyLong_FromSsize_t(i + 1);
        if (index == NULL || PyDict_SetItem(h2l_static_names, PyTuple_GET_ITEM(entry, 0), index) < 0) {
            Py_XDECREF(index);
            goto done;
        }
        Py_DECREF(index);
    }
    result = 0;
done:
    Py_DECREF(table);
    return result;
}

/* (Re)load what the HPACK parts take from the hpack package: its exception
 * classes and static table.  Run at import and again by _rebind(), so that a
 * process that purged and re-imported hpack gets the classes it now uses. */
int
h2l_hpack_bind(void)
{
    Py_XSETREF(h2l_HPACKDecodingError, import_attribute("hpack.exceptions", "HPACKDecodingError"));
    Py_XSETREF(InvalidTableIndex, import_attribute("hpack.exceptions", "InvalidTableIndex"));
    Py_XSETREF(OversizedHeaderListError, import_attribute("hpack.exceptions", "OversizedHeaderListError"));
    Py_XSETREF(InvalidTableSizeError, import_attribute("hpack.exceptions", "InvalidTableSizeError"));
    if (!h2l_HPACKDecodingError || !InvalidTableIndex || !OversizedHeaderListError || !InvalidTableSizeError) {
        return -1;
    }
    return load_static_table();
}

int
h2l_hpack_init(PyObject *module)
{
    h2l_huffman_init();
    if (h2l_hpack_bind() < 0 || PyType_Ready(&DecoderType) < 0) {
        return -1;
    }
    if (PyModule_AddObjectRef(module, "Decoder", (PyObject *)&DecoderType) < 0) {
        return -1;
    }
    return h2l_encoder_init(module);
}
