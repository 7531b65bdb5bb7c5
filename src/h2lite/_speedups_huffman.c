/*
 * The HPACK Huffman code (RFC 7541 §5.2, Appendix B) for h2lite's C
 * accelerator: the same bytes as hpack's encoder, and the same verdict and
 * message as hpack's decoder for every input.
 */
#include "_speedups.h"

#include <stdint.h>
#include <string.h>

/* -- Huffman code (RFC 7541 §5.2, Appendix B) ------------------------------- */

/*
 * Code lengths in bits of symbols 0..255 and EOS (256), from Appendix B.  The
 * code is canonical (codes of one length are consecutive, in symbol order),
 * so the lengths define it; h2l_huffman_init() derives the codes.
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

void
h2l_huffman_init(void)
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

Py_ssize_t
h2l_huffman_encoded_size(const unsigned char *data, Py_ssize_t size)
{
    uint64_t bits = 0;
    Py_ssize_t i;

    for (i = 0; i < size; i++) {
        bits += huffman_length[data[i]];
    }
    return (Py_ssize_t)((bits + 7) / 8);
}

/* Writes exactly h2l_huffman_encoded_size(data, size) bytes to out. */
void
h2l_huffman_encode(const unsigned char *data, Py_ssize_t size, unsigned char *out)
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
Py_ssize_t
h2l_huffman_decode(const unsigned char *in, Py_ssize_t size, unsigned char *out)
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
                PyErr_SetString(h2l_HPACKDecodingError, "Invalid Huffman string");
                return -1;
            }
            entry = huffman_symbols[huffman_offset[length] + code - huffman_first[length]];
            if (entry == HUFFMAN_EOS && length <= nbits) {
                /* RFC 7541 §5.2: EOS in a string is a decoding error. */
                PyErr_SetString(h2l_HPACKDecodingError, "Invalid Huffman string");
                return -1;
            }
        }
        if (length > nbits) {
            PyErr_SetString(h2l_HPACKDecodingError, "Incomplete Huffman string");
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
    result = PyBytes_FromStringAndSize(NULL, h2l_huffman_encoded_size(view.buf, view.len));
    if (result != NULL) {
        h2l_huffman_encode(view.buf, view.len, (unsigned char *)PyBytes_AS_STRING(result));
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
        size = h2l_huffman_decode(view.buf, view.len, out);
        if (size >= 0) {
            result = PyBytes_FromStringAndSize((const char *)out, size);
        }
        PyMem_Free(out);
    }
    PyBuffer_Release(&view);
    return result;
}

PyMethodDef h2l_huffman_methods[] = {
    {"huffman_encode", (PyCFunction)huffman_encode_py, METH_O,
     "huffman_encode(data) -> bytes: RFC 7541 §5.2 Huffman code, padded with ones."},
    {"huffman_decode", (PyCFunction)huffman_decode_py, METH_O,
     "huffman_decode(data) -> bytes; raises hpack's HPACKDecodingError as hpack does."},
    {NULL, NULL, 0, NULL},
};
