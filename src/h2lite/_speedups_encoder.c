/*
 * The HPACK encoder (RFC 7541) for h2lite's C accelerator.
 *
 * Encoder mirrors h2lite._hpack.Encoder, which is the specification: the same
 * indexing decisions in the same order (static exact match, dynamic exact
 * match, static name, dynamic name, literal), so byte-identical header blocks,
 * the same dynamic table and the same table size signalling.
 */
#include "_speedups.h"

#include <stdint.h>
#include <string.h>

/* 0 and 1, to subscript a header that is not a tuple. */
static PyObject *small_int[2];

/* -- integers (RFC 7541 §5.1) -------------------------------------------------- */

/* At most 11 bytes for any 64-bit value. */
static unsigned char *
write_integer(unsigned char *out, uint64_t value, int bits, unsigned char flags)
{
    uint64_t limit = (1u << bits) - 1;

    if (value < limit) {
        *out++ = (unsigned char)(flags | value);
        return out;
    }
    *out++ = (unsigned char)(flags | limit);
    value -= limit;
    while (value >= 128) {
        *out++ = (unsigned char)((value & 127) | 128);
        value >>= 7;
    }
    *out++ = (unsigned char)value;
    return out;
}

/* -- Encoder ----------------------------------------------------------------- */

typedef struct {
    PyObject *name;
    PyObject *value;
    Py_hash_t name_hash;
    Py_hash_t value_hash;
} EncoderEntry;

/*
 * The dynamic table is a ring of entries with ascending serial numbers; the
 * live ones are the last ``count`` serials.  Two open-addressing indexes map
 * (name, value) and name to the newest serial with that key; a slot holding
 * a serial that is no longer live is skipped, and both are rebuilt from the
 * live entries when half full (as _hpack.IndexedHeaderTable does with dicts).
 */
typedef struct {
    PyObject_HEAD
    EncoderEntry *ring;
    Py_ssize_t ring_capacity;
    Py_ssize_t head;
    Py_ssize_t count;
    uint64_t serial;             /* the serial the next entry gets */
    long long size;
    long long maxsize;
    int resized;
    PyObject *changes;           /* table_size_changes */
    uint64_t *exact_slots;       /* serial + 1, or 0 for empty */
    uint64_t *name_slots;
    Py_ssize_t slots_capacity;   /* a power of two, or 0 */
    Py_ssize_t slots_used;
    unsigned char *out;
    Py_ssize_t out_capacity;
    Py_ssize_t out_length;
} Encoder;

static PyTypeObject EncoderType;

static inline EncoderEntry *
encoder_entry(Encoder *self, Py_ssize_t i)
{
    return &self->ring[(self->head + i) & (self->ring_capacity - 1)];
}

static inline EncoderEntry *
encoder_entry_by_serial(Encoder *self, uint64_t serial)
{
    return encoder_entry(self, (Py_ssize_t)(self->serial - 1 - serial));
}

static inline int
encoder_live(Encoder *self, uint64_t serial)
{
    return serial < self->serial && self->serial - serial <= (uint64_t)self->count;
}

static inline size_t
mix_hash(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h;
}

static inline size_t
exact_hash(Py_hash_t name_hash, Py_hash_t value_hash)
{
    return mix_hash(((uint64_t)name_hash * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)value_hash);
}

static inline int
same_bytes(PyObject *a, PyObject *b)
{
    Py_ssize_t size = PyBytes_GET_SIZE(a);
    return a == b || (size == PyBytes_GET_SIZE(b) && memcmp(PyBytes_AS_STRING(a), PyBytes_AS_STRING(b), size) == 0);
}

static void
encoder_evict_oldest(Encoder *self)
{
    EncoderEntry *oldest = encoder_entry(self, self->count - 1);
    PyObject *name = oldest->name, *value = oldest->value;

    self->count--;
    self->size -= H2L_ENTRY_OVERHEAD + PyBytes_GET_SIZE(name) + PyBytes_GET_SIZE(value);
    oldest->name = oldest->value = NULL;
    Py_DECREF(name);
    Py_DECREF(value);
}

static void
encoder_clear(Encoder *self)
{
    while (self->count) {
        encoder_evict_oldest(self);
    }
    self->size = 0;
}

static void
encoder_shrink(Encoder *self)
{
    while (self->size > self->maxsize && self->count) {
        encoder_evict_oldest(self);
    }
}

static void
index_insert(Encoder *self, uint64_t *slots, size_t hash, uint64_t serial, int by_value)
{
    size_t mask = (size_t)self->slots_capacity - 1, i = hash & mask;
    EncoderEntry *entry = encoder_entry_by_serial(self, serial);

    while (slots[i]) {
        uint64_t other = slots[i] - 1;
        if (encoder_live(self, other)) {
            EncoderEntry *old = encoder_entry_by_serial(self, other);
            if (old->name_hash == entry->name_hash && same_bytes(old->name, entry->name)
                && (!by_value || (old->value_hash == entry->value_hash && same_bytes(old->value, entry->value)))) {
                slots[i] = serial + 1;  /* the newer entry with this key replaces it */
                return;
            }
        }
        i = (i + 1) & mask;
    }
    slots[i] = serial + 1;
    if (by_value) {
        self->slots_used++;
    }
}

static int
encoder_rebuild_index(Encoder *self)
{
    Py_ssize_t capacity = 64, i;
    uint64_t *exact, *names;

    while (capacity < 4 * (self->count + 1)) {
        capacity *= 2;
    }
    exact = PyMem_Calloc((size_t)capacity, sizeof(uint64_t));
    names = PyMem_Calloc((size_t)capacity, sizeof(uint64_t));
    if (exact == NULL || names == NULL) {
        PyMem_Free(exact);
        PyMem_Free(names);
        PyErr_NoMemory();
        return -1;
    }
    PyMem_Free(self->exact_slots);
    PyMem_Free(self->name_slots);
    self->exact_slots = exact;
    self->name_slots = names;
    self->slots_capacity = capacity;
    self->slots_used = 0;
    for (i = self->count - 1; i >= 0; i--) {  /* oldest first, so the newest wins */
        uint64_t serial = self->serial - 1 - (uint64_t)i;
        EncoderEntry *entry = encoder_entry(self, i);
        index_insert(self, exact, exact_hash(entry->name_hash, entry->value_hash), serial, 1);
        index_insert(self, names, mix_hash((uint64_t)entry->name_hash), serial, 0);
    }
    return 0;
}

/* The newest live serial with this key, or -1. */
static long long
index_find(Encoder *self, uint64_t *slots, size_t hash, PyObject *name, Py_hash_t name_hash,
           PyObject *value, Py_hash_t value_hash)
{
    size_t mask, i;

    if (!self->slots_capacity) {
        return -1;
    }
    mask = (size_t)self->slots_capacity - 1;
    for (i = hash & mask; slots[i]; i = (i + 1) & mask) {
        uint64_t serial = slots[i] - 1;
        if (encoder_live(self, serial)) {
            EncoderEntry *entry = encoder_entry_by_serial(self, serial);
            if (entry->name_hash == name_hash && same_bytes(entry->name, name)
                && (value == NULL || (entry->value_hash == value_hash && same_bytes(entry->value, value)))) {
                return (long long)serial;
            }
        }
    }
    return -1;
}

/* _hpack.IndexedHeaderTable.add. */
static int
encoder_add(Encoder *self, PyObject *name, Py_hash_t name_hash, PyObject *value, Py_hash_t value_hash)
{
    long long size = H2L_ENTRY_OVERHEAD + PyBytes_GET_SIZE(name) + PyBytes_GET_SIZE(value);
    EncoderEntry *entry;
    uint64_t serial;

    if (size > self->maxsize) {
        encoder_clear(self);
        return 0;
    }
    if (self->count == self->ring_capacity) {
        Py_ssize_t capacity = self->ring_capacity ? self->ring_capacity * 2 : 16, i;
        EncoderEntry *ring = PyMem_Malloc((size_t)capacity * sizeof(EncoderEntry));
        if (ring == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (i = 0; i < self->count; i++) {
            ring[i] = *encoder_entry(self, i);
        }
        PyMem_Free(self->ring);
        self->ring = ring;
        self->ring_capacity = capacity;
        self->head = 0;
    }
    self->head = (self->head - 1) & (self->ring_capacity - 1);
    entry = &self->ring[self->head];
    entry->name = Py_NewRef(name);
    entry->value = Py_NewRef(value);
    entry->name_hash = name_hash;
    entry->value_hash = value_hash;
    self->count++;
    self->size += size;
    serial = self->serial++;
    encoder_shrink(self);
    if ((self->slots_used + 1) * 2 > self->slots_capacity) {
        return encoder_rebuild_index(self);  /* includes the new entry */
    }
    index_insert(self, self->exact_slots, exact_hash(name_hash, value_hash), serial, 1);
    index_insert(self, self->name_slots, mix_hash((uint64_t)name_hash), serial, 0);
    return 0;
}

/* hpack's Encoder.header_table_size setter (through HeaderTable.maxsize). */
static int
encoder_set_maxsize(Encoder *self, PyObject *value)
{
    long long size, old = self->maxsize;

    if (h2l_table_size_from(value, &size) < 0) {
        return -1;
    }
    self->maxsize = size;
    self->resized = size != old;
    if (size <= 0) {
        encoder_clear(self);
    }
    else if (old > size) {
        encoder_shrink(self);
    }
    if (self->resized) {
        return PyList_Append(self->changes, value);
    }
    return 0;
}

static int
out_reserve(Encoder *self, Py_ssize_t extra)
{
    Py_ssize_t need = self->out_length + extra;

    if (need > self->out_capacity) {
        Py_ssize_t capacity = self->out_capacity ? self->out_capacity : 256;
        unsigned char *out;
        while (capacity < need) {
            capacity *= 2;
        }
        out = PyMem_Realloc(self->out, (size_t)capacity);
        if (out == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        self->out = out;
        self->out_capacity = capacity;
    }
    return 0;
}

/* A string literal (RFC 7541 §5.2). */
static int
out_literal(Encoder *self, PyObject *bytes, int huffman)
{
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(bytes);
    Py_ssize_t size = PyBytes_GET_SIZE(bytes);
    Py_ssize_t encoded = huffman ? h2l_huffman_encoded_size(data, size) : size;
    unsigned char *p;

    if (out_reserve(self, encoded + 11) < 0) {
        return -1;
    }
    p = write_integer(self->out + self->out_length, (uint64_t)encoded, 7, huffman ? 0x80 : 0);
    if (huffman) {
        h2l_huffman_encode(data, size, p);
    }
    else {
        memcpy(p, data, (size_t)size);
    }
    self->out_length = (p - self->out) + encoded;
    return 0;
}

static int
out_integer(Encoder *self, uint64_t value, int bits, unsigned char flags)
{
    if (out_reserve(self, 11) < 0) {
        return -1;
    }
    self->out_length = write_integer(self->out + self->out_length, value, bits, flags) - self->out;
    return 0;
}

/* hpack's rule: NeverIndexedHeaderTuple, or a HeaderTuple that is not indexable. */
static int
header_is_sensitive(PyObject *header)
{
    PyTypeObject *type = Py_TYPE(header);
    PyObject *cls, *indexable;
    int result;

    if (type == &PyTuple_Type || type == h2l_HeaderTuple) {
        return 0;
    }
    if (type == h2l_NeverIndexedHeaderTuple) {
        return 1;
    }
    cls = PyObject_GetAttrString(header, "__class__");
    if (cls == NULL) {
        return -1;
    }
    Py_DECREF(cls);
    if (cls == (PyObject *)h2l_NeverIndexedHeaderTuple) {
        return 1;
    }
    result = PyObject_IsInstance(header, (PyObject *)h2l_HeaderTuple);
    if (result <= 0) {
        return result;
    }
    indexable = PyObject_GetAttrString(header, "indexable");
    if (indexable == NULL) {
        return -1;
    }
    result = PyObject_IsTrue(indexable);
    Py_DECREF(indexable);
    return result < 0 ? -1 : !result;
}

/* One field, as _hpack.Encoder.encode's loop body. */
static int
encoder_field(Encoder *self, PyObject *header, int huffman)
{
    PyObject *name, *value, *first;
    Py_hash_t name_hash, value_hash;
    long long serial, index = 0;
    int sensitive, result = -1;

    if (PyTuple_Check(header) && PyTuple_GET_SIZE(header) >= 2) {
        name = Py_NewRef(PyTuple_GET_ITEM(header, 0));
        value = Py_NewRef(PyTuple_GET_ITEM(header, 1));
    }
    else {
        /* header[0], header[1]: any subscriptable object, as in the pure loop. */
        name = PyObject_GetItem(header, small_int[0]);
        if (name == NULL) {
            return -1;
        }
        value = PyObject_GetItem(header, small_int[1]);
        if (value == NULL) {
            Py_DECREF(name);
            return -1;
        }
    }
    sensitive = header_is_sensitive(header);
    if (sensitive < 0) {
        goto done;
    }
    if (!PyBytes_Check(name) || !PyBytes_Check(value)) {
        PyErr_Format(PyExc_TypeError, "header names and values must be bytes, got %.200s and %.200s",
                     Py_TYPE(name)->tp_name, Py_TYPE(value)->tp_name);
        goto done;
    }
    name_hash = PyObject_Hash(name);
    value_hash = name_hash == -1 ? -1 : PyObject_Hash(value);
    if (value_hash == -1) {
        goto done;
    }
    /* The search order of _hpack.IndexedHeaderTable.search: static exact,
     * dynamic exact, static name, dynamic name. */
    first = PyDict_GetItemWithError(h2l_static_names, name);
    if (first == NULL && PyErr_Occurred()) {
        goto done;
    }
    if (first != NULL) {
        long long i;
        for (i = PyLong_AsLongLong(first); i <= H2L_STATIC_ENTRIES; i++) {
            PyObject *entry = h2l_static_headers[i - 1];
            if (!same_bytes(PyTuple_GET_ITEM(entry, 0), name)) {
                break;
            }
            if (same_bytes(PyTuple_GET_ITEM(entry, 1), value)) {
                result = out_integer(self, (uint64_t)i, 7, 0x80);  /* RFC 7541 §6.1 */
                goto done;
            }
        }
    }
    serial = index_find(self, self->exact_slots, exact_hash(name_hash, value_hash), name, name_hash, value, value_hash);
    if (serial >= 0) {
        result = out_integer(self, H2L_STATIC_ENTRIES + self->serial - (uint64_t)serial, 7, 0x80);
        goto done;
    }
    if (first != NULL) {
        index = PyLong_AsLongLong(first);
    }
    else {
        serial = index_find(self, self->name_slots, mix_hash((uint64_t)name_hash), name, name_hash, NULL, 0);
        if (serial >= 0) {
            index = H2L_STATIC_ENTRIES + (long long)(self->serial - (uint64_t)serial);
        }
    }
    /* RFC 7541 §6.2.1 (0x40, incremental indexing) / §6.2.3 (0x10, never indexed). */
    if (index) {
        if (out_integer(self, (uint64_t)index, sensitive ? 4 : 6, sensitive ? 0x10 : 0x40) < 0) {
            goto done;
        }
    }
    else if (out_integer(self, 0, 8, sensitive ? 0x10 : 0x40) < 0 || out_literal(self, name, huffman) < 0) {
        goto done;
    }
    if (out_literal(self, value, huffman) < 0) {
        goto done;
    }
    result = sensitive ? 0 : encoder_add(self, name, name_hash, value, value_hash);
done:
    Py_DECREF(name);
    Py_DECREF(value);
    return result;
}

/* hpack's _encode_table_size_change: every size change since the last block. */
static int
encoder_size_updates(Encoder *self)
{
    Py_ssize_t i;
    PyObject *empty;

    if (!PyList_Check(self->changes)) {
        PyErr_SetString(PyExc_TypeError, "table_size_changes must be a list");
        return -1;
    }
    for (i = 0; i < PyList_GET_SIZE(self->changes); i++) {
        /* Held: an __index__ method could change the list. */
        PyObject *item = Py_NewRef(PyList_GET_ITEM(self->changes, i));
        long long size = PyLong_AsLongLong(item);
        Py_DECREF(item);
        if (size == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (size < 0) {
            PyErr_Format(PyExc_ValueError, "Can only encode positive integers, got %lld", size);
            return -1;
        }
        if (out_integer(self, (uint64_t)size, 5, 0x20) < 0) {  /* RFC 7541 §6.3 */
            return -1;
        }
    }
    empty = PyList_New(0);
    if (empty == NULL) {
        return -1;
    }
    Py_SETREF(self->changes, empty);
    return 0;
}

static PyObject *
Encoder_encode(Encoder *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *headers = nargs > 0 ? args[0] : NULL, *huffman_arg = nargs > 1 ? args[1] : NULL;
    Py_ssize_t i, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    int huffman = 1;

    if (nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "encode() takes at most 2 arguments");
        return NULL;
    }
    for (i = 0; i < nkw; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        if (PyUnicode_CompareWithASCIIString(key, "headers") == 0 && headers == NULL) {
            headers = args[nargs + i];
        }
        else if (PyUnicode_CompareWithASCIIString(key, "huffman") == 0 && huffman_arg == NULL) {
            huffman_arg = args[nargs + i];
        }
        else {
            PyErr_Format(PyExc_TypeError, "encode() got an unexpected keyword argument %R", key);
            return NULL;
        }
    }
    if (headers == NULL) {
        PyErr_SetString(PyExc_TypeError, "encode() missing required argument 'headers'");
        return NULL;
    }
    if (huffman_arg != NULL && (huffman = PyObject_IsTrue(huffman_arg)) < 0) {
        return NULL;
    }
    if (self->changes == NULL) {
        PyErr_SetString(PyExc_ValueError, "the encoder was cleared");
        return NULL;
    }
    self->out_length = 0;
    if (self->resized) {
        if (encoder_size_updates(self) < 0) {
            return NULL;
        }
        self->resized = 0;
    }
    if (PyList_CheckExact(headers) || PyTuple_CheckExact(headers)) {
        /* Hold the sequence: a bytes subclass's __hash__ could change a list. */
        Py_INCREF(headers);
        for (i = 0; i < PySequence_Fast_GET_SIZE(headers); i++) {
            PyObject *header = Py_NewRef(PySequence_Fast_GET_ITEM(headers, i));
            int failed = encoder_field(self, header, huffman) < 0;
            Py_DECREF(header);
            if (failed) {
                Py_DECREF(headers);
                return NULL;
            }
        }
        Py_DECREF(headers);
    }
    else {
        PyObject *iterator = PyObject_GetIter(headers), *header;
        if (iterator == NULL) {
            return NULL;
        }
        while ((header = PyIter_Next(iterator)) != NULL) {
            int failed = encoder_field(self, header, huffman) < 0;
            Py_DECREF(header);
            if (failed) {
                Py_DECREF(iterator);
                return NULL;
            }
        }
        Py_DECREF(iterator);
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    return PyBytes_FromStringAndSize((const char *)self->out, self->out_length);
}

static PyObject *
Encoder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    Encoder *self;

    if (!PyArg_ParseTuple(args, ":Encoder") || (kwargs != NULL && PyDict_GET_SIZE(kwargs))) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "Encoder() takes no arguments");
        }
        return NULL;
    }
    self = (Encoder *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->maxsize = 4096;  /* RFC 9113 §6.5.2: the initial SETTINGS_HEADER_TABLE_SIZE */
    self->changes = PyList_New(0);
    if (self->changes == NULL || encoder_rebuild_index(self) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
Encoder_traverse(Encoder *self, visitproc visit, void *arg)
{
    Py_ssize_t i;

    for (i = 0; i < self->count; i++) {
        Py_VISIT(encoder_entry(self, i)->name);
        Py_VISIT(encoder_entry(self, i)->value);
    }
    Py_VISIT(self->changes);
    return 0;
}

static int
Encoder_clear(Encoder *self)
{
    encoder_clear(self);
    Py_CLEAR(self->changes);
    return 0;
}

static void
Encoder_dealloc(Encoder *self)
{
    PyObject_GC_UnTrack(self);
    Encoder_clear(self);
    PyMem_Free(self->ring);
    PyMem_Free(self->exact_slots);
    PyMem_Free(self->name_slots);
    PyMem_Free(self->out);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Encoder_get_header_table_size(Encoder *self, void *closure)
{
    (void)closure;
    return PyLong_FromLongLong(self->maxsize);
}

static int
Encoder_set_header_table_size(Encoder *self, PyObject *value, void *closure)
{
    (void)closure;
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete header_table_size");
        return -1;
    }
    if (self->changes == NULL) {
        PyErr_SetString(PyExc_ValueError, "the encoder was cleared");
        return -1;
    }
    return encoder_set_maxsize(self, value);
}

static PyObject *
Encoder_get_changes(Encoder *self, void *closure)
{
    (void)closure;
    if (self->changes == NULL) {
        PyErr_SetString(PyExc_ValueError, "the encoder was cleared");
        return NULL;
    }
    return Py_NewRef(self->changes);
}

static int
Encoder_set_changes(Encoder *self, PyObject *value, void *closure)
{
    (void)closure;
    if (value == NULL || !PyList_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "table_size_changes must be a list");
        return -1;
    }
    Py_INCREF(value);
    Py_XSETREF(self->changes, value);
    return 0;
}

static PyObject *
Encoder_get_dynamic_entries(Encoder *self, void *closure)
{
    PyObject *entries = PyList_New(self->count);
    Py_ssize_t i;

    (void)closure;
    for (i = 0; entries != NULL && i < self->count; i++) {
        EncoderEntry *entry = encoder_entry(self, i);
        PyObject *pair = PyTuple_Pack(2, entry->name, entry->value);
        if (pair == NULL) {
            Py_CLEAR(entries);
            break;
        }
        PyList_SET_ITEM(entries, i, pair);
    }
    return entries;
}

static PyObject *
Encoder_get_current_size(Encoder *self, void *closure)
{
    (void)closure;
    return PyLong_FromLongLong(self->size);
}

static PyObject *
Encoder_get_resized(Encoder *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->resized);
}

static PyMethodDef Encoder_methods[] = {
    {"encode", (PyCFunction)(void (*)(void))Encoder_encode, METH_FASTCALL | METH_KEYWORDS,
     "encode(headers, huffman=True) -> bytes"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Encoder_getset[] = {
    {"header_table_size", (getter)Encoder_get_header_table_size, (setter)Encoder_set_header_table_size,
     "The dynamic table's maximum size; a change is signalled in the next block.", NULL},
    {"table_size_changes", (getter)Encoder_get_changes, (setter)Encoder_set_changes,
     "Size changes not yet signalled.", NULL},
    {"dynamic_entries", (getter)Encoder_get_dynamic_entries, NULL,
     "The dynamic table's (name, value) entries, newest first.", NULL},
    {"current_size", (getter)Encoder_get_current_size, NULL,
     "The dynamic table's size in use (RFC 7541 §4.1).", NULL},
    {"resized", (getter)Encoder_get_resized, NULL,
     "Whether the next block starts with table size updates.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject EncoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "h2lite._speedups.Encoder",
    .tp_basicsize = sizeof(Encoder),
    .tp_dealloc = (destructor)Encoder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "HPACK encoder with the state and output of h2lite._hpack.Encoder.",
    .tp_traverse = (traverseproc)Encoder_traverse,
    .tp_clear = (inquiry)Encoder_clear,
    .tp_methods = Encoder_methods,
    .tp_getset = Encoder_getset,
    .tp_new = Encoder_new,
};

int
h2l_encoder_init(PyObject *module)
{
    if (!(small_int[0] = PyLong_FromLong(0)) || !(small_int[1] = PyLong_FromLong(1))) {
        return -1;
    }
    if (PyType_Ready(&EncoderType) < 0) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "Encoder", (PyObject *)&EncoderType);
}
