/*
 * RFC 9113 §8 field rules for h2lite's C accelerator.
 *
 * check_request, check_response, check_trailers, normalize_inbound and
 * prepare_outbound mirror the functions of the same names in h2lite.headers,
 * which are the specification: the same results, the same MalformedHeaders or
 * TypeError with the same message.  The check_* functions and
 * normalize_inbound handle lists (or tuples) of 2-tuples of exact bytes, which
 * is what the decoder and prepare_outbound produce; for anything else they
 * return NotImplemented and h2lite.headers runs its own code.
 */
#include "_speedups.h"

#include <string.h>

/* RFC 9113 §8.2.1: lowercase token characters (RFC 9110 §5.6.2 tchar). */
static unsigned char name_char_ok[256];
/* RFC 9113 §8.2.1: NUL, CR and LF never appear in a value. */
static unsigned char value_char_bad[256];

/* h2lite.headers.MalformedHeaders, looked up when first raised. */
static PyObject *MalformedHeaders;

static PyObject *
raise_malformed(PyObject *message)
{
    if (message == NULL) {
        return NULL;
    }
    if (MalformedHeaders == NULL) {
        PyObject *module = PyImport_ImportModule("h2lite.headers");
        if (module != NULL) {
            MalformedHeaders = PyObject_GetAttrString(module, "MalformedHeaders");
            Py_DECREF(module);
        }
        if (MalformedHeaders == NULL) {
            Py_DECREF(message);
            return NULL;
        }
    }
    PyErr_SetObject(MalformedHeaders, message);
    Py_DECREF(message);
    return NULL;
}

void
h2l_fields_unbind(void)
{
    Py_CLEAR(MalformedHeaders);
}

#define MALFORMED(text) raise_malformed(PyUnicode_FromString(text))
#define MALFORMED_NAME(format, name) raise_malformed(PyUnicode_FromFormat(format, name))

static inline int
bytes_is(PyObject *bytes, const char *text, Py_ssize_t size)
{
    return PyBytes_GET_SIZE(bytes) == size && memcmp(PyBytes_AS_STRING(bytes), text, (size_t)size) == 0;
}

#define BYTES_IS(bytes, literal) bytes_is((bytes), (literal), (Py_ssize_t)sizeof(literal) - 1)

static inline int
same_value(PyObject *a, PyObject *b)
{
    return bytes_is(a, PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b));
}

/* A tuple whose iteration is tuple's own: ``name, value = item`` reads its items. */
static inline int
plain_pair(PyObject *item)
{
    return PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 2
           && (PyTuple_CheckExact(item) || Py_TYPE(item)->tp_iter == PyTuple_Type.tp_iter);
}

typedef struct {
    PyObject *method, *scheme, *authority, *path, *protocol, *status;  /* borrowed */
    PyObject *host;
    long long content_length;  /* -1: none */
} Fields;

enum { ALLOW_NO_PSEUDO, ALLOW_REQUEST_PSEUDO, ALLOW_RESPONSE_PSEUDO };

static PyObject **
pseudo_slot(Fields *fields, PyObject *name, int allowed)
{
    if (allowed == ALLOW_REQUEST_PSEUDO) {
        if (BYTES_IS(name, ":method")) {
            return &fields->method;
        }
        if (BYTES_IS(name, ":scheme")) {
            return &fields->scheme;
        }
        if (BYTES_IS(name, ":authority")) {
            return &fields->authority;
        }
        if (BYTES_IS(name, ":path")) {
            return &fields->path;
        }
        if (BYTES_IS(name, ":protocol")) {
            return &fields->protocol;
        }
    }
    else if (allowed == ALLOW_RESPONSE_PSEUDO && BYTES_IS(name, ":status")) {
        return &fields->status;
    }
    return NULL;
}

static int
connection_specific(PyObject *name)
{
    /* RFC 9113 §8.2.2: connection-specific fields MUST NOT appear. */
    return BYTES_IS(name, "connection") || BYTES_IS(name, "proxy-connection") || BYTES_IS(name, "keep-alive")
           || BYTES_IS(name, "transfer-encoding") || BYTES_IS(name, "upgrade");
}

/*
 * h2lite.headers._scan_fields.  Returns 1 when checked, 0 when the input is
 * not a shape handled here (nothing raised), -1 with MalformedHeaders set.
 */
static int
scan_fields(PyObject *headers, int allowed, Fields *fields)
{
    Py_ssize_t count, i;
    PyObject **items;
    int regular_seen = 0;

    memset(fields, 0, sizeof(*fields));
    fields->content_length = -1;
    if (!PyList_CheckExact(headers) && !PyTuple_CheckExact(headers)) {
        return 0;
    }
    count = PySequence_Fast_GET_SIZE(headers);
    items = PySequence_Fast_ITEMS(headers);
    for (i = 0; i < count; i++) {
        PyObject *item = items[i], *name, *value;
        const unsigned char *s, *v;
        Py_ssize_t size, value_size, j;

        if (!plain_pair(item)) {
            return 0;
        }
        name = PyTuple_GET_ITEM(item, 0);
        value = PyTuple_GET_ITEM(item, 1);
        if (!PyBytes_CheckExact(name) || !PyBytes_CheckExact(value)) {
            return 0;
        }
        s = (const unsigned char *)PyBytes_AS_STRING(name);
        size = PyBytes_GET_SIZE(name);
        j = size && s[0] == ':';
        if (j == size) {
            MALFORMED_NAME("invalid field name %R", name);
            return -1;
        }
        for (; j < size; j++) {
            if (!name_char_ok[s[j]]) {
                MALFORMED_NAME("invalid field name %R", name);
                return -1;
            }
        }
        v = (const unsigned char *)PyBytes_AS_STRING(value);
        value_size = PyBytes_GET_SIZE(value);
        if (value_size) {
            /* RFC 9113 §8.2.1: no leading or trailing whitespace. */
            int bad = v[0] == ' ' || v[0] == '\t' || v[value_size - 1] == ' ' || v[value_size - 1] == '\t';
            for (j = 0; !bad && j < value_size; j++) {
                bad = value_char_bad[v[j]];
            }
            if (bad) {
                MALFORMED_NAME("invalid value for field %R", name);
                return -1;
            }
        }
        if (s[0] == ':') {
            PyObject **slot;
            /* RFC 9113 §8.3: pseudo-headers come first, once each, known ones only. */
            if (regular_seen) {
                MALFORMED_NAME("pseudo-header %R after a regular field", name);
                return -1;
            }
            slot = pseudo_slot(fields, name, allowed);
            if (slot == NULL) {
                MALFORMED_NAME("pseudo-header %R not allowed here", name);
                return -1;
            }
            if (*slot != NULL) {
                MALFORMED_NAME("duplicate pseudo-header %R", name);
                return -1;
            }
            *slot = value;
            continue;
        }
        regular_seen = 1;
        if (connection_specific(name)) {
            MALFORMED_NAME("connection-specific field %R", name);
            return -1;
        }
        if (BYTES_IS(name, "te")) {
            /* RFC 9113 §8.2.2: TE may only carry "trailers". */
            if (!BYTES_IS(value, "trailers")) {
                MALFORMED("te field other than 'trailers'");
                return -1;
            }
        }
        else if (BYTES_IS(name, "content-length")) {
            long long length = 0;
            if (value_size < 1 || value_size > 18) {
                MALFORMED("content-length is not a number");
                return -1;
            }
            for (j = 0; j < value_size; j++) {
                if (v[j] < '0' || v[j] > '9') {
                    MALFORMED("content-length is not a number");
                    return -1;
                }
                length = length * 10 + (v[j] - '0');
            }
            if (fields->content_length >= 0 && fields->content_length != length) {
                MALFORMED("conflicting content-length values");
                return -1;
            }
            fields->content_length = length;
        }
        else if (BYTES_IS(name, "host")) {
            if (fields->host != NULL && !same_value(fields->host, value)) {
                MALFORMED("conflicting host fields");
                return -1;
            }
            fields->host = value;
        }
    }
    return 1;
}

static inline int
empty_or_absent(PyObject *value)
{
    return value == NULL || PyBytes_GET_SIZE(value) == 0;
}

static PyObject *
result_pair(PyObject *first, long long content_length)
{
    PyObject *length = content_length < 0 ? Py_NewRef(Py_None) : PyLong_FromLongLong(content_length);
    PyObject *result;

    if (length == NULL) {
        Py_DECREF(first);
        return NULL;
    }
    result = PyTuple_Pack(2, first, length);
    Py_DECREF(first);
    Py_DECREF(length);
    return result;
}

static PyObject *
check_request(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Fields f;
    int scanned, connect;

    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "check_request() takes exactly 2 arguments");
        return NULL;
    }
    scanned = scan_fields(args[0], ALLOW_REQUEST_PSEUDO, &f);
    if (scanned <= 0) {
        return scanned ? NULL : Py_NewRef(Py_NotImplemented);
    }
    if (empty_or_absent(f.method)) {
        return MALFORMED("request without :method");
    }
    connect = BYTES_IS(f.method, "CONNECT");
    if (connect && f.protocol == NULL) {
        /* RFC 9113 §8.5: CONNECT has :authority and no :scheme or :path. */
        if (f.scheme != NULL || f.path != NULL || empty_or_absent(f.authority)) {
            return MALFORMED("malformed CONNECT request");
        }
        return result_pair(Py_NewRef(f.method), f.content_length);
    }
    if (f.protocol != NULL) {
        /* RFC 8441 §4: :protocol only with extended CONNECT, when we allowed it. */
        int enabled = PyObject_IsTrue(args[1]);
        if (enabled < 0) {
            return NULL;
        }
        if (!enabled || !connect) {
            return MALFORMED(":protocol without extended CONNECT");
        }
    }
    /* RFC 9113 §8.3.1: :method, :scheme and :path are required; :path not empty. */
    if (empty_or_absent(f.scheme) || f.path == NULL) {
        return MALFORMED("request without :scheme or :path");
    }
    if (PyBytes_GET_SIZE(f.path) == 0) {
        return MALFORMED("empty :path");
    }
    if (BYTES_IS(f.scheme, "http") || BYTES_IS(f.scheme, "https")) {
        if (PyBytes_AS_STRING(f.path)[0] != '/' && !(BYTES_IS(f.path, "*") && BYTES_IS(f.method, "OPTIONS"))) {
            return MALFORMED(":path must start with '/'");
        }
        if (empty_or_absent(f.authority) && empty_or_absent(f.host)) {
            return MALFORMED("request without :authority or host");
        }
    }
    if (f.authority != NULL && f.host != NULL && !same_value(f.authority, f.host)) {
        return MALFORMED(":authority and host differ");
    }
    return result_pair(Py_NewRef(f.method), f.content_length);
}

static PyObject *
check_response(PyObject *module, PyObject *headers)
{
    Fields f;
    int scanned;
    const char *s;
    long code;

    (void)module;
    scanned = scan_fields(headers, ALLOW_RESPONSE_PSEUDO, &f);
    if (scanned <= 0) {
        return scanned ? NULL : Py_NewRef(Py_NotImplemented);
    }
    /* RFC 9113 §8.3.2: exactly one :status, a three-digit code. */
    if (f.status == NULL || PyBytes_GET_SIZE(f.status) != 3) {
        return MALFORMED("response without a valid :status");
    }
    s = PyBytes_AS_STRING(f.status);
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9') {
        return MALFORMED("response without a valid :status");
    }
    code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    if (code < 100 || code == 101) {
        /* RFC 9113 §8.6: 101 (Switching Protocols) is not part of HTTP/2. */
        return raise_malformed(PyUnicode_FromFormat("status %ld is not allowed in HTTP/2", code));
    }
    return result_pair(PyLong_FromLong(code), f.content_length);
}

static PyObject *
check_trailers(PyObject *module, PyObject *headers)
{
    Fields f;
    int scanned;

    (void)module;
    /* RFC 9113 §8.1: trailers carry no pseudo-header fields. */
    scanned = scan_fields(headers, ALLOW_NO_PSEUDO, &f);
    if (scanned <= 0) {
        return scanned ? NULL : Py_NewRef(Py_NotImplemented);
    }
    Py_RETURN_NONE;
}

/* h2lite.headers.normalize_inbound: join cookie crumbs (RFC 9113 §8.2.3). */
static PyObject *
normalize_inbound(PyObject *module, PyObject *headers)
{
    Py_ssize_t count, i, crumbs = 0, joined_size = 0, k, written = 0;
    PyObject *out, *joined, *header, *snapshot, *name;
    int sensitive = 0;
    char *p;

    (void)module;
    if (!PyList_CheckExact(headers)) {
        return Py_NewRef(Py_NotImplemented);
    }
    count = PyList_GET_SIZE(headers);
    for (i = 0; i < count; i++) {
        PyObject *item = PyList_GET_ITEM(headers, i);
        if (!plain_pair(item) || !PyBytes_CheckExact(PyTuple_GET_ITEM(item, 0))) {
            return Py_NewRef(Py_NotImplemented);
        }
        if (BYTES_IS(PyTuple_GET_ITEM(item, 0), "cookie")) {
            if (!PyBytes_CheckExact(PyTuple_GET_ITEM(item, 1))) {
                return Py_NewRef(Py_NotImplemented);
            }
            crumbs++;
            joined_size += PyBytes_GET_SIZE(PyTuple_GET_ITEM(item, 1));
        }
    }
    if (crumbs < 2) {
        return Py_NewRef(headers);
    }
    /* A snapshot: isinstance() below may run Python code that changes the list. */
    snapshot = PyList_AsTuple(headers);
    joined = PyBytes_FromStringAndSize(NULL, joined_size + 2 * (crumbs - 1));
    out = PyList_New(count - crumbs + 1);
    if (snapshot == NULL || joined == NULL || out == NULL) {
        Py_XDECREF(snapshot);
        Py_XDECREF(joined);
        Py_XDECREF(out);
        return NULL;
    }
    p = PyBytes_AS_STRING(joined);
    for (i = 0, k = 0; i < count; i++) {
        PyObject *item = PyTuple_GET_ITEM(snapshot, i), *value;
        if (!BYTES_IS(PyTuple_GET_ITEM(item, 0), "cookie")) {
            PyList_SET_ITEM(out, k++, Py_NewRef(item));
            continue;
        }
        /* A never-indexed crumb makes the joined cookie never-indexed (RFC 7541 §7.1.3). */
        if (!sensitive) {
            sensitive = PyObject_IsInstance(item, (PyObject *)h2l_NeverIndexedHeaderTuple);
            if (sensitive < 0) {
                Py_DECREF(snapshot);
                Py_DECREF(joined);
                Py_DECREF(out);
                return NULL;
            }
        }
        value = PyTuple_GET_ITEM(item, 1);
        if (written++) {
            *p++ = ';';
            *p++ = ' ';
        }
        memcpy(p, PyBytes_AS_STRING(value), (size_t)PyBytes_GET_SIZE(value));
        p += PyBytes_GET_SIZE(value);
    }
    Py_DECREF(snapshot);
    name = PyBytes_FromStringAndSize("cookie", 6);
    if (name == NULL) {
        Py_DECREF(joined);
        Py_DECREF(out);
        return NULL;
    }
    header = h2l_header_tuple(sensitive ? h2l_NeverIndexedHeaderTuple : h2l_HeaderTuple, name, joined);
    if (header == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    PyList_SET_ITEM(out, k, header);
    return out;
}

/* -- outbound ---------------------------------------------------------------- */

/* h2lite.headers._to_bytes; a new reference. */
static PyObject *
to_bytes(PyObject *value, const char *what)
{
    PyObject *type_name;

    if (PyBytes_Check(value)) {
        return Py_NewRef(value);
    }
    if (PyUnicode_Check(value)) {
        return PyUnicode_AsUTF8String(value);
    }
    if (PyByteArray_Check(value) || PyMemoryView_Check(value)) {
        return PyBytes_FromObject(value);
    }
    type_name = PyObject_GetAttrString((PyObject *)Py_TYPE(value), "__name__");
    if (type_name != NULL) {
        PyErr_Format(PyExc_TypeError, "header %s must be bytes or str, not %S", what, type_name);
        Py_DECREF(type_name);
    }
    return NULL;
}

/* ``name, value = item``, with any TypeError or ValueError turned into a TypeError naming the item. */
static int
unpack_pair(PyObject *item, PyObject **name, PyObject **value)
{
    PyObject *iterator, *extra = NULL;

    *name = *value = NULL;
    if (plain_pair(item) || (PyList_CheckExact(item) && PyList_GET_SIZE(item) == 2)) {
        *name = Py_NewRef(PySequence_Fast_GET_ITEM(item, 0));
        *value = Py_NewRef(PySequence_Fast_GET_ITEM(item, 1));
        return 0;
    }
    iterator = PyObject_GetIter(item);
    if (iterator != NULL) {
        *name = PyIter_Next(iterator);
        if (*name != NULL) {
            *value = PyIter_Next(iterator);
        }
        if (*value != NULL) {
            extra = PyIter_Next(iterator);
        }
        Py_DECREF(iterator);
        if (!PyErr_Occurred() && (*value == NULL || extra != NULL)) {
            PyErr_SetString(PyExc_ValueError, *value == NULL ? "not enough values to unpack" : "too many values to unpack");
        }
        Py_XDECREF(extra);
    }
    if (!PyErr_Occurred()) {
        return 0;
    }
    Py_CLEAR(*name);
    Py_CLEAR(*value);
    if (PyErr_ExceptionMatches(PyExc_TypeError) || PyErr_ExceptionMatches(PyExc_ValueError)) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "header field must be a (name, value) pair, got %R", item);
    }
    return -1;
}

/* bytes.lower() for ASCII; the same object when there is nothing to change. */
static PyObject *
lower_bytes(PyObject *name)
{
    const char *s = PyBytes_AS_STRING(name);
    Py_ssize_t size = PyBytes_GET_SIZE(name), i;
    PyObject *result;
    char *d;

    for (i = 0; i < size; i++) {
        if (s[i] >= 'A' && s[i] <= 'Z') {
            break;
        }
    }
    if (i == size && PyBytes_CheckExact(name)) {
        return Py_NewRef(name);
    }
    result = PyBytes_FromStringAndSize(s, size);
    if (result == NULL) {
        return NULL;
    }
    d = PyBytes_AS_STRING(result);
    for (; i < size; i++) {
        if (d[i] >= 'A' && d[i] <= 'Z') {
            d[i] = (char)(d[i] + ('a' - 'A'));
        }
    }
    return result;
}

/* bytes.strip(b" \t"). */
static PyObject *
strip_bytes(PyObject *value)
{
    const char *s = PyBytes_AS_STRING(value);
    Py_ssize_t start = 0, end = PyBytes_GET_SIZE(value);

    while (start < end && (s[start] == ' ' || s[start] == '\t')) {
        start++;
    }
    while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t')) {
        end--;
    }
    if (start == 0 && end == PyBytes_GET_SIZE(value) && PyBytes_CheckExact(value)) {
        return Py_NewRef(value);
    }
    return PyBytes_FromStringAndSize(s + start, end - start);
}

static int
append_pair(PyObject *out, int sensitive, PyObject *name, PyObject *value)
{
    PyObject *pair;
    int result;

    if (sensitive) {
        pair = h2l_header_tuple(h2l_NeverIndexedHeaderTuple, Py_NewRef(name), Py_NewRef(value));
    }
    else {
        pair = PyTuple_Pack(2, name, value);
    }
    if (pair == NULL) {
        return -1;
    }
    result = PyList_Append(out, pair);
    Py_DECREF(pair);
    return result;
}

/* Splits a cookie at each "; " (RFC 9113 §8.2.3). */
static int
append_crumbs(PyObject *out, int sensitive, PyObject *name, PyObject *value)
{
    const char *s = PyBytes_AS_STRING(value), *end = s + PyBytes_GET_SIZE(value), *start = s;

    for (;;) {
        const char *cut = start;
        PyObject *crumb;
        int result;
        while (cut + 1 < end && !(cut[0] == ';' && cut[1] == ' ')) {
            cut++;
        }
        if (cut + 1 >= end) {
            cut = end;
        }
        crumb = PyBytes_FromStringAndSize(start, cut - start);
        if (crumb == NULL) {
            return -1;
        }
        result = append_pair(out, sensitive, name, crumb);
        Py_DECREF(crumb);
        if (result < 0) {
            return -1;
        }
        if (cut == end) {
            return 0;
        }
        start = cut + 2;
    }
}

static int
contains_crumb_separator(PyObject *value)
{
    const char *s = PyBytes_AS_STRING(value);
    Py_ssize_t size = PyBytes_GET_SIZE(value), i;

    for (i = 0; i + 1 < size; i++) {
        if (s[i] == ';' && s[i + 1] == ' ') {
            return 1;
        }
    }
    return 0;
}

/* One field of prepare_outbound. */
static int
prepare_field(PyObject *out, PyObject *item, int normalize, int split_cookies)
{
    PyObject *raw_name, *raw_value, *name = NULL, *value = NULL;
    int sensitive, result = -1;

    if (unpack_pair(item, &raw_name, &raw_value) < 0) {
        return -1;
    }
    name = to_bytes(raw_name, "name");
    if (name == NULL || (value = to_bytes(raw_value, "value")) == NULL) {
        goto done;
    }
    if (normalize) {
        Py_SETREF(name, lower_bytes(name));
        if (name == NULL) {
            goto done;
        }
        Py_SETREF(value, strip_bytes(value));
        if (value == NULL) {
            goto done;
        }
    }
    if (PyTuple_CheckExact(item)) {
        sensitive = 0;
    }
    else {
        sensitive = PyObject_IsInstance(item, (PyObject *)h2l_NeverIndexedHeaderTuple);
        if (sensitive < 0) {
            goto done;
        }
    }
    if (split_cookies && BYTES_IS(name, "cookie") && contains_crumb_separator(value)) {
        result = append_crumbs(out, sensitive, name, value);
    }
    else if (!sensitive && PyTuple_CheckExact(item) && PyTuple_GET_ITEM(item, 0) == name
             && PyTuple_GET_ITEM(item, 1) == value) {
        result = PyList_Append(out, item);
    }
    else {
        result = append_pair(out, sensitive, name, value);
    }
done:
    Py_DECREF(raw_name);
    Py_DECREF(raw_value);
    Py_XDECREF(name);
    Py_XDECREF(value);
    return result;
}

static PyObject *
prepare_outbound(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *headers, *items, *out, *attribute;
    Py_ssize_t i;
    int normalize, split_cookies;

    (void)module;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "prepare_outbound() takes exactly 3 arguments");
        return NULL;
    }
    headers = args[0];
    if (PyUnicode_Check(headers) || PyBytes_Check(headers)) {
        PyErr_SetString(PyExc_TypeError, "headers must be an iterable of (name, value) pairs");
        return NULL;
    }
    if (!PyList_CheckExact(headers) && !PyTuple_CheckExact(headers)) {
        /* hasattr(headers, "__iter__"): only AttributeError means no. */
        attribute = PyObject_GetAttrString(headers, "__iter__");
        if (attribute == NULL) {
            if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
                PyErr_Clear();
                PyErr_SetString(PyExc_TypeError, "headers must be an iterable of (name, value) pairs");
            }
            return NULL;
        }
        Py_DECREF(attribute);
    }
    normalize = PyObject_IsTrue(args[1]);
    split_cookies = PyObject_IsTrue(args[2]);
    if (normalize < 0 || split_cookies < 0) {
        return NULL;
    }
    /* As the specification: a list is used as it is, anything else is listed first. */
    items = PyList_CheckExact(headers) ? Py_NewRef(headers) : PySequence_List(headers);
    if (items == NULL) {
        return NULL;
    }
    out = PyList_New(0);
    if (out == NULL) {
        Py_DECREF(items);
        return NULL;
    }
    for (i = 0; i < PyList_GET_SIZE(items); i++) {  /* the size is re-read: an item's __iter__ may change it */
        PyObject *item = Py_NewRef(PyList_GET_ITEM(items, i));
        int failed = prepare_field(out, item, normalize, split_cookies) < 0;
        Py_DECREF(item);
        if (failed) {
            Py_DECREF(items);
            Py_DECREF(out);
            return NULL;
        }
    }
    Py_DECREF(items);
    return out;
}

PyMethodDef h2l_fields_methods[] = {
    {"check_request", (PyCFunction)(void (*)(void))check_request, METH_FASTCALL,
     "check_request(headers, connect_protocol_enabled) -> (method, content_length)"},
    {"check_response", (PyCFunction)check_response, METH_O,
     "check_response(headers) -> (status, content_length)"},
    {"check_trailers", (PyCFunction)check_trailers, METH_O, "check_trailers(headers) -> None"},
    {"normalize_inbound", (PyCFunction)normalize_inbound, METH_O,
     "normalize_inbound(headers) -> headers with cookie crumbs joined"},
    {"prepare_outbound", (PyCFunction)(void (*)(void))prepare_outbound, METH_FASTCALL,
     "prepare_outbound(headers, normalize, split_cookies) -> list of byte pairs"},
    {NULL, NULL, 0, NULL},
};

int
h2l_fields_init(PyObject *module)
{
    const char *extra = "!#$%&'*+-.^_`|~";
    int c;

    (void)module;
    for (c = '0'; c <= '9'; c++) {
        name_char_ok[c] = 1;
    }
    for (c = 'a'; c <= 'z'; c++) {
        name_char_ok[c] = 1;
    }
    for (; *extra; extra++) {
        name_char_ok[(unsigned char)*extra] = 1;
    }
    value_char_bad[0] = value_char_bad['\r'] = value_char_bad['\n'] = 1;
    return 0;
}
