/*
 * HPACK (RFC 7541) for h2lite's C accelerator.
 *
 * Decoder and Encoder mirror h2lite._hpack.Decoder and h2lite._hpack.Encoder,
 * which are the specification: the same header lists (HeaderTuple and
 * NeverIndexedHeaderTuple), the same dynamic tables, byte-identical header
 * blocks, and the same hpack exception, with the same message, for the same
 * bad input, raised at the same point (so the table is left in the same state).
 */
#include "_speedups.h"

#include <stdint.h>
#include <string.h>

/* hpack's exception classes. */
static PyObject *HPACKDecodingError;
static PyObject *InvalidTableIndex;
static PyObject *OversizedHeaderListError;
static PyObject *InvalidTableSizeError;

/* RFC 7541 Appendix A: the static table, as HeaderTuples, and name -> first index. */
#define STATIC_ENTRIES 61
static PyObject *static_headers[STATIC_ENTRIES];
static PyObject *static_names;

/* 0 and 1, to subscript a header that is not a tuple. */
static PyObject *small_int[2];

/* RFC 7541 §4.1: an entry's size is its name and value lengths plus 32. */
#define ENTRY_OVERHEAD 32

/* -- Huffman code (RFC 7541 §5.2, Appendix B) ------------------------------- */

/*
 * Code lengths in bits of symbols 0..255 and EOS (256), from Appendix B.  The
 * code is canonical (codes of one length are consecutive, in symbol order),
 * so the lengths define it; huffman_init() derives the codes.
 */
static const unsigned char huffman_length[257] = {
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,  /*   0.. */
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,  /*  16.. */
     6, 10, 10, 12, 13,  6,  8, 11, 10, 10,  8, 11,  8,  6,  6,  6,  /*  32.. */
     5,  5,  5,  6,  6,  6,  6,  6,  6,  6,  7,  8, 15,  6, 12, 10,  /*  48.. */
    13,  6,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  /*  64.. */
     7,  7,  7,  7,  7,  7,  7,  7,  8,  7,  8, 13, 19, 13, 14,  6,  /*  80.. */
    15,  5,  6,  5,  6,  5,  6,  6,  6,  5,  7,  7,  6,  6,  6,  5,  /*  96.. */
     6,  7,  6,  5,  5,  6,  7,  7,  7,  7,  7, 15, 11, 14, 13, 28,  /* 112.. */
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,  /* 128.. */
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,  /* 144.. */
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,  /* 160.. */
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,  /* 176.. */
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,  /* 192.. */
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,  /* 208.. */
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,  /* 224.. */
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,  /* 240.. */
    30,                                                              /* EOS */
};

#define HUFFMAN_EOS 256
#define HUFFMAN_MAX_LENGTH 30

static uint32_t huffman_code[257];
/* Decoding: for each length, its first code, how many codes, where its symbols start. */
static uint32_t huffman_first[HUFFMAN_MAX_LENGTH + 1];
static uint32_t huffman_count[HUFFMAN_MAX_LENGTH + 1];
static uint32_t huffman_offset[HUFFMAN_MAX_LENGTH + 1];
static uint16_t huffman_symbols[257];
/* The next 8 bits -> (length << 9) | symbol for codes of at most 8 bits, else 0. */
static uint16_t huffman_fast[256];

static void
huffman_init(void)
{
    uint32_t code = 0, k = 0;
    int length, symbol;

    for (length = 1; length <= HUFFMAN_MAX_LENGTH; length++) {
        huffman_first[length] = code;
        huffman_offset[length] = k;
        for (symbol = 0; symbol <= HUFFMAN_EOS; symbol++) {
            if (huffman_length[symbol] == length) {
                huffman_code[symbol] = code++;
                huffman_symbols[k++] = (uint16_t)symbol;
            }
        }
        huffman_count[length] = code - huffman_first[length];
        code <<= 1;
    }
    for (symbol = 0; symbol < HUFFMAN_EOS; symbol++) {
        length = huffman_length[symbol];
        if (length <= 8) {
            uint32_t prefix = huffman_code[symbol] << (8 - length), j;
            for (j = 0; j < (1u << (8 - length)); j++) {
                huffman_fast[prefix | j] = (uint16_t)((length << 9) | symbol);
            }
        }
    }
}

static Py_ssize_t
huffman_encoded_size(const unsigned char *data, Py_ssize_t size)
{
    uint64_t bits = 0;
    Py_ssize_t i;

    for (i = 0; i < size; i++) {
        bits += huffman_length[data[i]];
    }
    return (Py_ssize_t)((bits + 7) / 8);
}

/* Writes exactly huffman_encoded_size(data, size) bytes to out. */
static void
huffman_encode(const unsigned char *data, Py_ssize_t size, unsigned char *out)
{
    uint64_t bits = 0;
    int pending = 0;
    Py_ssize_t i;

    for (i = 0; i < size; i++) {
        int length = huffman_length[data[i]];
        bits = (bits << length) | huffman_code[data[i]];
        pending += length;
        while (pending >= 8) {
            pending -= 8;
            *out++ = (unsigned char)(bits >> pending);
        }
    }
    if (pending) {
        /* RFC 7541 §5.2: pad with the most significant bits of EOS (ones). */
        *out = (unsigned char)((bits << (8 - pending)) | (0xFFu >> pending));
    }
}

/*
 * Decodes size bytes into out, which has room for size * 8 / 5 + 1 bytes (no
 * code is shorter than 5 bits).  Returns the decoded length, or -1 with
 * HPACKDecodingError set: "Invalid" for EOS in the string, "Incomplete" for
 * a string that does not end on a code boundary followed by valid padding.
 */
static Py_ssize_t
huffman_decode(const unsigned char *in, Py_ssize_t size, unsigned char *out)
{
    unsigned char *start = out;
    uint64_t bits = 0;
    int nbits = 0;
    Py_ssize_t pos = 0;

    for (;;) {
        uint32_t top, entry;
        int length;

        while (nbits <= 56 && pos < size) {
            bits = (bits << 8) | in[pos++];
            nbits += 8;
        }
        if (nbits < 8) {
            uint32_t mask = (1u << nbits) - 1;
            /* RFC 7541 §5.2: padding is at most 7 bits, all ones (a prefix of EOS). */
            if (((uint32_t)bits & mask) == mask) {
                break;
            }
            top = (((uint32_t)bits << (8 - nbits)) | (0xFFu >> nbits)) & 0xFF;
        }
        else {
            top = (uint32_t)(bits >> (nbits - 8)) & 0xFF;
        }
        entry = huffman_fast[top];
        length = (int)(entry >> 9);
        if (length) {
            entry &= 0x1FF;
        }
        else {
            uint32_t window, code = 0;
            if (nbits >= HUFFMAN_MAX_LENGTH) {
                window = (uint32_t)(bits >> (nbits - HUFFMAN_MAX_LENGTH)) & 0x3FFFFFFF;
            }
            else {
                window = (uint32_t)((bits << (HUFFMAN_MAX_LENGTH - nbits))
                                    | ((1u << (HUFFMAN_MAX_LENGTH - nbits)) - 1)) & 0x3FFFFFFF;
            }
            for (length = 9; length <= HUFFMAN_MAX_LENGTH; length++) {
                code = window >> (HUFFMAN_MAX_LENGTH - length);
                if (code - huffman_first[length] < huffman_count[length]) {
                    break;
                }
            }
            if (length > HUFFMAN_MAX_LENGTH) {  /* cannot happen: the code is complete */
                PyErr_SetString(HPACKDecodingError, "Invalid Huffman string");
                return -1;
            }
            entry = huffman_symbols[huffman_offset[length] + code - huffman_first[length]];
            if (entry == HUFFMAN_EOS && length <= nbits) {
                /* RFC 7541 §5.2: EOS in a string is a decoding error. */
                PyErr_SetString(HPACKDecodingError, "Invalid Huffman string");
                return -1;
            }
        }
        if (length > nbits) {
            PyErr_SetString(HPACKDecodingError, "Incomplete Huffman string");
            return -1;
        }
        *out++ = (unsigned char)entry;
        nbits -= length;
    }
    return out - start;
}

static PyObject *
huffman_encode_py(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    PyObject *result;

    (void)module;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    result = PyBytes_FromStringAndSize(NULL, huffman_encoded_size(view.buf, view.len));
    if (result != NULL) {
        huffman_encode(view.buf, view.len, (unsigned char *)PyBytes_AS_STRING(result));
    }
    PyBuffer_Release(&view);
    return result;
}

static PyObject *
huffman_decode_py(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    PyObject *result = NULL;
    unsigned char *out;
    Py_ssize_t size;

    (void)module;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    out = PyMem_Malloc((size_t)(view.len * 8 / 5 + 1));
    if (out == NULL) {
        PyErr_NoMemory();
    }
    else {
        size = huffman_decode(view.buf, view.len, out);
        if (size >= 0) {
            result = PyBytes_FromStringAndSize((const char *)out, size);
        }
        PyMem_Free(out);
    }
    PyBuffer_Release(&view);
    return result;
}

/* -- integers (RFC 7541 §5.1) -------------------------------------------------- */

/* The rest of an integer whose prefix bits were all ones, as _hpack._continue_integer. */
static int
continue_integer(const unsigned char *data, Py_ssize_t end, Py_ssize_t *pos, long long *value)
{
    int shift = 0;

    for (;;) {
        unsigned char byte;
        if (*pos >= end || shift > 28) {
            PyErr_SetString(HPACKDecodingError, "truncated or oversized integer");
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

/* int(value) as a long long, as hpack's HeaderTable.maxsize setter converts it. */
static int
table_size_from(PyObject *value, long long *out)
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
    return ENTRY_OVERHEAD + PyBytes_GET_SIZE(PyTuple_GET_ITEM(header, 0))
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
    if (index >= 1 && index <= STATIC_ENTRIES) {
        return static_headers[index - 1];
    }
    if (index > STATIC_ENTRIES && index - STATIC_ENTRIES - 1 < self->count) {
        return decoder_entry(self, (Py_ssize_t)(index - STATIC_ENTRIES - 1));
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
        PyErr_SetString(HPACKDecodingError, "Truncated header block");
        return NULL;
    }
    first = data[(*pos)++];
    length = first & 0x7F;
    if (length == 0x7F && continue_integer(data, end, pos, &length) < 0) {
        return NULL;
    }
    if (length > end - *pos) {
        PyErr_SetString(HPACKDecodingError, "Truncated header block");
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
    decoded = huffman_decode(data + start, (Py_ssize_t)length, self->scratch);
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
                PyErr_SetString(HPACKDecodingError, "Table size update not at the start of the block");
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
    if (table_size_from(value, &size) < 0) {
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
    self->size -= ENTRY_OVERHEAD + PyBytes_GET_SIZE(name) + PyBytes_GET_SIZE(value);
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
    long long size = ENTRY_OVERHEAD + PyBytes_GET_SIZE(name) + PyBytes_GET_SIZE(value);
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

    if (table_size_from(value, &size) < 0) {
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
    Py_ssize_t encoded = huffman ? huffman_encoded_size(data, size) : size;
    unsigned char *p;

    if (out_reserve(self, encoded + 11) < 0) {
        return -1;
    }
    p = write_integer(self->out + self->out_length, (uint64_t)encoded, 7, huffman ? 0x80 : 0);
    if (huffman) {
        huffman_encode(data, size, p);
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
    first = PyDict_GetItemWithError(static_names, name);
    if (first == NULL && PyErr_Occurred()) {
        goto done;
    }
    if (first != NULL) {
        long long i;
        for (i = PyLong_AsLongLong(first); i <= STATIC_ENTRIES; i++) {
            PyObject *entry = static_headers[i - 1];
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
        result = out_integer(self, STATIC_ENTRIES + self->serial - (uint64_t)serial, 7, 0x80);
        goto done;
    }
    if (first != NULL) {
        index = PyLong_AsLongLong(first);
    }
    else {
        serial = index_find(self, self->name_slots, mix_hash((uint64_t)name_hash), name, name_hash, NULL, 0);
        if (serial >= 0) {
            index = STATIC_ENTRIES + (long long)(self->serial - (uint64_t)serial);
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

/* -- set-up ------------------------------------------------------------------ */

PyMethodDef h2l_hpack_methods[] = {
    {"huffman_encode", (PyCFunction)huffman_encode_py, METH_O,
     "huffman_encode(data) -> bytes: RFC 7541 §5.2 Huffman code, padded with ones."},
    {"huffman_decode", (PyCFunction)huffman_decode_py, METH_O,
     "huffman_decode(data) -> bytes; raises hpack's HPACKDecodingError as hpack does."},
    {NULL, NULL, 0, NULL},
};

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
    static_names = PyDict_New();
    if (static_names == NULL) {
        goto done;
    }
    if (!PyTuple_Check(table) || PyTuple_GET_SIZE(table) != STATIC_ENTRIES) {
        PyErr_SetString(PyExc_ImportError, "hpack's static table is not the one of RFC 7541");
        goto done;
    }
    for (i = 0; i < STATIC_ENTRIES; i++) {
        PyObject *entry = PyTuple_GET_ITEM(table, i), *index;
        if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 2 || !PyBytes_CheckExact(PyTuple_GET_ITEM(entry, 0))
            || !PyBytes_CheckExact(PyTuple_GET_ITEM(entry, 1))) {
            PyErr_SetString(PyExc_ImportError, "hpack's static table is not the one of RFC 7541");
            goto done;
        }
        static_headers[i] = h2l_header_tuple(h2l_HeaderTuple, Py_NewRef(PyTuple_GET_ITEM(entry, 0)),
                                             Py_NewRef(PyTuple_GET_ITEM(entry, 1)));
        if (static_headers[i] == NULL) {
            goto done;
        }
        if (PyDict_GetItemWithError(static_names, PyTuple_GET_ITEM(entry, 0)) != NULL) {
            continue;
        }
        if (PyErr_Occurred()) {
            goto done;
        }
        index = PyLong_FromSsize_t(i + 1);
        if (index == NULL || PyDict_SetItem(static_names, PyTuple_GET_ITEM(entry, 0), index) < 0) {
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

int
h2l_hpack_init(PyObject *module)
{
    huffman_init();
    if (!(small_int[0] = PyLong_FromLong(0)) || !(small_int[1] = PyLong_FromLong(1))) {
        return -1;
    }
    if (!(HPACKDecodingError = import_attribute("hpack.exceptions", "HPACKDecodingError"))
        || !(InvalidTableIndex = import_attribute("hpack.exceptions", "InvalidTableIndex"))
        || !(OversizedHeaderListError = import_attribute("hpack.exceptions", "OversizedHeaderListError"))
        || !(InvalidTableSizeError = import_attribute("hpack.exceptions", "InvalidTableSizeError"))) {
        return -1;
    }
    if (load_static_table() < 0 || PyType_Ready(&DecoderType) < 0 || PyType_Ready(&EncoderType) < 0) {
        return -1;
    }
    if (PyModule_AddObjectRef(module, "Decoder", (PyObject *)&DecoderType) < 0
        || PyModule_AddObjectRef(module, "Encoder", (PyObject *)&EncoderType) < 0) {
        return -1;
    }
    return 0;
}
