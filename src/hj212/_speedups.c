/* hj212._speedups: the two hottest steps of decoding a frame, in C.  hj212 works without this module
 * (setup.py builds it when a compiler is there); the pure-Python versions are the reference the tests
 * compare these with.
 *
 * crc16_hj212(data) -- the HJ 212 CRC (HJ 212-2017 Appendix A).  The standard's algorithm keeps a 16-bit register, XORs each byte into its high byte's place after
 * shifting it right by 8, then runs 8 reflected steps with the polynomial 0xA001.  The 8 steps are one
 * table look-up: reg = (reg >> 8) ^ T[reg & 0xFF].  hj212.crc holds the pure-Python version (used when
 * this module was not built) and the literal bitwise one the tests compare both with.
 *
 * split_segment(text) -- the common shape of a data segment, split in one pass: see below.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static unsigned short table[256];

static void make_table(void) {
    for (unsigned int x = 0; x < 256; x++) {
        unsigned int reg = x;
        for (int bit = 0; bit < 8; bit++) {
            reg = (reg & 1) ? (reg >> 1) ^ 0xA001 : reg >> 1;
        }
        table[x] = (unsigned short)reg;
    }
}

static PyObject *crc16_hj212(PyObject *module, PyObject *data) {
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const unsigned char *bytes = (const unsigned char *)view.buf;
    unsigned int reg = 0xFFFF;
    for (Py_ssize_t i = 0; i < view.len; i++) {
        reg = (reg >> 8) ^ bytes[i];
        reg = (reg >> 8) ^ table[reg & 0xFF];
    }
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(reg);
}


/* ------------------------------------------------------------------------------------------ split */

/* Characters that send a segment to the general parser when they appear anywhere in it (besides the
 * separators, which must be where the common shape has them): space, tab, '/'. */
static int odd_char(char c) { return c == ' ' || c == '\t' || c == '/'; }

/* split_segment(text) -> (keys, values, mapping, cp_keys, cp_values, separators, shape, cp_at) or None.
 *
 * The common shape ``k=v;...;CP=&&k=v[;,]k=v...&&`` of an ASCII data segment: every header field and
 * every CP item holds exactly one '=', the header no ',', no space, tab or '/' anywhere, no header key
 * empty or repeated, no CP key empty.  ``shape`` is "\0".join(cp_keys) (the key of the parser's shape
 * cache) and ``cp_at`` the index of "CP=".  Anything else gives None and the caller takes the general
 * parser.  hj212.parsing._fast_segment_python is the same function in Python. */
static PyObject *split_segment(PyObject *module, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "split_segment() takes a str");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(arg)) {
        Py_RETURN_NONE;
    }
    const char *s = (const char *)PyUnicode_1BYTE_DATA(arg);
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    Py_ssize_t cp_at = -1;
    for (Py_ssize_t i = 0; i + 6 <= n; i++) {
        if (s[i] == ';' && memcmp(s + i, ";CP=&&", 6) == 0) {
            cp_at = i + 1;
            break;
        }
    }
    if (cp_at <= 0 || n < 2 || s[n - 1] != '&' || s[n - 2] != '&' || n - 2 <= cp_at + 5) {
        Py_RETURN_NONE;
    }
    /* the header: fields "key=value;" up to cp_at */
    Py_ssize_t fields = 0;
    for (Py_ssize_t i = 0; i < cp_at; i++) {
        if (s[i] == ';') {
            fields++;
        }
    }
    PyObject *keys = PyTuple_New(fields), *values = PyTuple_New(fields), *mapping = PyDict_New();
    PyObject *cp_keys = NULL, *cp_values = NULL, *seps = NULL, *shape = NULL, *result = NULL;
    if (keys == NULL || values == NULL || mapping == NULL) {
        goto done;
    }
    Py_ssize_t at = 0;
    for (Py_ssize_t f = 0; f < fields; f++) {
        Py_ssize_t key_start = at, eq = -1;
        while (s[at] != ';') {
            char c = s[at];
            if (c == '=') {
                if (eq >= 0) {
                    goto decline;
                }
                eq = at;
            } else if (c == ',' || odd_char(c)) {
                goto decline;
            }
            at++;
        }
        if (eq <= key_start) { /* no '=' or an empty key */
            goto decline;
        }
        PyObject *key = PyUnicode_FromStringAndSize(s + key_start, eq - key_start);
        if (key == NULL) {
            goto done;
        }
        PyTuple_SET_ITEM(keys, f, key);
        PyObject *value = PyUnicode_FromStringAndSize(s + eq + 1, at - eq - 1);
        if (value == NULL) {
            goto done;
        }
        PyTuple_SET_ITEM(values, f, value);
        int seen = PyDict_Contains(mapping, key);
        if (seen != 0 || PyDict_SetItem(mapping, key, value) < 0) {
            if (seen < 0) {
                goto done;
            }
            goto decline; /* a repeated key */
        }
        at++; /* the ';' */
    }
    /* the CP: "CP=&&" then items up to the closing "&&" */
    Py_ssize_t body = cp_at + 5, end = n - 2, items = 1;
    for (Py_ssize_t i = body; i < end; i++) {
        char c = s[i];
        if (c == ';' || c == ',') {
            items++;
        } else if (odd_char(c)) {
            goto decline;
        }
    }
    cp_keys = PyTuple_New(items);
    cp_values = PyTuple_New(items);
    seps = PyUnicode_New(items - 1, 127);
    if (cp_keys == NULL || cp_values == NULL || seps == NULL) {
        goto done;
    }
    char *sep_out = (char *)PyUnicode_1BYTE_DATA(seps);
    Py_ssize_t shape_len = items - 1;
    at = body;
    for (Py_ssize_t k = 0; k < items; k++) {
        Py_ssize_t key_start = at, eq = -1;
        while (at < end && s[at] != ';' && s[at] != ',') {
            if (s[at] == '=') {
                if (eq >= 0) {
                    goto decline;
                }
                eq = at;
            }
            at++;
        }
        if (eq <= key_start) {
            goto decline;
        }
        PyObject *key = PyUnicode_FromStringAndSize(s + key_start, eq - key_start);
        if (key == NULL) {
            goto done;
        }
        PyTuple_SET_ITEM(cp_keys, k, key);
        shape_len += eq - key_start;
        PyObject *value = PyUnicode_FromStringAndSize(s + eq + 1, at - eq - 1);
        if (value == NULL) {
            goto done;
        }
        PyTuple_SET_ITEM(cp_values, k, value);
        if (k < items - 1) {
            sep_out[k] = s[at];
            at++;
        }
    }
    shape = PyUnicode_New(shape_len, 127);
    if (shape == NULL) {
        goto done;
    }
    char *shape_out = (char *)PyUnicode_1BYTE_DATA(shape);
    for (Py_ssize_t k = 0; k < items; k++) {
        PyObject *key = PyTuple_GET_ITEM(cp_keys, k);
        Py_ssize_t size = PyUnicode_GET_LENGTH(key);
        if (k > 0) {
            *shape_out++ = '\0';
        }
        memcpy(shape_out, PyUnicode_1BYTE_DATA(key), (size_t)size);
        shape_out += size;
    }
    result = Py_BuildValue("(OOOOOOOn)", keys, values, mapping, cp_keys, cp_values, seps, shape, cp_at);
    goto done;
decline:
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(keys);
    Py_XDECREF(values);
    Py_XDECREF(mapping);
    Py_XDECREF(cp_keys);
    Py_XDECREF(cp_values);
    Py_XDECREF(seps);
    Py_XDECREF(shape);
    return result;
}

static PyMethodDef methods[] = {
    {"crc16_hj212", crc16_hj212, METH_O, "HJ 212 CRC of a bytes-like object as an int 0..0xFFFF."},
    {"split_segment", split_segment, METH_O, "The common shape of a data segment split in one pass, or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "hj212._speedups", "The HJ 212 CRC and the common segment split, in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__speedups(void) {
    make_table();
    return PyModule_Create(&module_def);
}
