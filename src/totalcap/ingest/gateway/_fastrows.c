/* totalcap.ingest.gateway._fastrows: the sample lines of a clean data frame, in C.
 *
 * sample_lines(prefix, data_time, keys, values, realtime) takes a data frame's CP items as the codec
 * parsed them (parallel tuples of str) and returns (lines, meta) exactly as the Python function
 * totalcap.ingest.gateway.rows.sample_lines returns them for the same items -- or None whenever the
 * frame is not the clean case, and the caller then takes the Python path, which handles everything
 * (legacy codes, extra items, odd values, warnings).  The clean case:
 *
 *   - every key and value is ASCII;
 *   - each pollutant's items are contiguous ("code-Suffix", the code 4..16 letters and digits and
 *     starting with a letter: no legacy code to map), at most MAX_GROUPS pollutants;
 *   - every suffix is a value column of the kind (the suffixes rows.py gives configure(): Rtd/Avg,
 *     Min, Max, Cou, ZsRtd/ZsAvg, ZsMin, ZsMax) holding a number of the store's syntax, or Flag (up to 4 printable characters) or EFlag (up
 *     to 8), without a backslash; a repeated suffix keeps its first value, as CP.subjects does.
 *
 * A line is  prefix pollutant \t data_time \t 7 value columns \t flag \t eflag \t \N \t \N \t
 * (sample_time and extra are NULL in the clean case); the caller appends frame_id and received_at.
 * meta holds (pollutant, value or None, cou or None, flag) per line.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define COLUMNS 7
#define MAX_GROUPS 256
#define FLAG_SLOT COLUMNS
#define EFLAG_SLOT (COLUMNS + 1)
#define SLOTS (COLUMNS + 2)

#define SUFFIX_MAX 16

/* The value columns' suffixes of each kind, in column order: given once by rows.py (its
 * REALTIME_SUFFIXES / INTERVAL_SUFFIXES) through configure(); until then sample_lines declines. */
typedef struct {
    char text[COLUMNS][SUFFIX_MAX];
    Py_ssize_t size[COLUMNS];
} Suffixes;

static Suffixes realtime_suffixes, interval_suffixes;
static int configured;

static PyObject *empty_text;

typedef struct {
    const char *code;
    Py_ssize_t code_len;
    PyObject *slot[SLOTS]; /* borrowed values */
} Group;

/* [+-]?(?:\d{1,14}(?:\.\d*)?|\.\d+) over ASCII digits */
static int is_number(const char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        i++;
    }
    if (i < n && s[i] == '.') {
        Py_ssize_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        return i > start && i == n;
    }
    Py_ssize_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++;
    }
    if (i == start || i - start > 14) {
        return 0;
    }
    if (i == n) {
        return 1;
    }
    if (s[i] != '.') {
        return 0;
    }
    i++;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++;
    }
    return i == n;
}

static int is_code(const char *s, Py_ssize_t n) {
    if (n < 4 || n > 16) {
        return 0;
    }
    if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'))) {
        return 0;
    }
    for (Py_ssize_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            return 0;
        }
    }
    return 1;
}

static int is_flag(const char *s, Py_ssize_t n, Py_ssize_t limit) {
    if (n > limit) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7E || s[i] == '\\') {
            return 0;
        }
    }
    return 1;
}

/* the slot of a suffix, or -1 */
static int slot_of(const char *s, Py_ssize_t n, const Suffixes *suffixes) {
    for (int i = 0; i < COLUMNS; i++) {
        if (suffixes->size[i] == n && memcmp(s, suffixes->text[i], (size_t)n) == 0) {
            return i;
        }
    }
    if (n == 4 && memcmp(s, "Flag", 4) == 0) {
        return FLAG_SLOT;
    }
    if (n == 5 && memcmp(s, "EFlag", 5) == 0) {
        return EFLAG_SLOT;
    }
    return -1;
}

static const char *ascii_of(PyObject *text, Py_ssize_t *size) {
    if (!PyUnicode_Check(text) || !PyUnicode_IS_ASCII(text)) {
        return NULL;
    }
    *size = PyUnicode_GET_LENGTH(text);
    return (const char *)PyUnicode_1BYTE_DATA(text);
}

static char *put(char *at, const char *s, Py_ssize_t n) {
    memcpy(at, s, (size_t)n);
    return at + n;
}

/* Append the line and the meta tuple of one pollutant; -1 on a Python error. */
static int emit(Group *g, const char *prefix, Py_ssize_t prefix_len, const char *data_time, Py_ssize_t time_len,
                PyObject *lines, PyObject *meta) {
    Py_ssize_t sizes[SLOTS];
    const char *texts[SLOTS];
    Py_ssize_t total = prefix_len + g->code_len + 1 + time_len + 1;
    for (int i = 0; i < SLOTS; i++) {
        if (g->slot[i] != NULL) {
            texts[i] = (const char *)PyUnicode_1BYTE_DATA(g->slot[i]);
            sizes[i] = PyUnicode_GET_LENGTH(g->slot[i]);
        } else if (i < COLUMNS) {
            texts[i] = "\\N";
            sizes[i] = 2;
        } else {
            texts[i] = "";
            sizes[i] = 0;
        }
        total += sizes[i] + 1;
    }
    total += 6; /* \N \t \N \t (sample_time, extra) */
    PyObject *line = PyUnicode_New(total, 127);
    if (line == NULL) {
        return -1;
    }
    char *at = (char *)PyUnicode_1BYTE_DATA(line);
    at = put(at, prefix, prefix_len);
    at = put(at, g->code, g->code_len);
    *at++ = '\t';
    at = put(at, data_time, time_len);
    *at++ = '\t';
    for (int i = 0; i < SLOTS; i++) {
        at = put(at, texts[i], sizes[i]);
        *at++ = '\t';
    }
    put(at, "\\N\t\\N\t", 6);
    int failed = PyList_Append(lines, line);
    Py_DECREF(line);
    if (failed) {
        return -1;
    }
    PyObject *pollutant = PyUnicode_FromStringAndSize(g->code, g->code_len);
    if (pollutant == NULL) {
        return -1;
    }
    PyObject *flag = g->slot[FLAG_SLOT] != NULL ? g->slot[FLAG_SLOT] : empty_text;
    PyObject *item = PyTuple_Pack(4, pollutant, g->slot[0] != NULL ? g->slot[0] : Py_None,
                                  g->slot[3] != NULL ? g->slot[3] : Py_None, flag);
    Py_DECREF(pollutant);
    if (item == NULL) {
        return -1;
    }
    failed = PyList_Append(meta, item);
    Py_DECREF(item);
    return failed ? -1 : 0;
}

static PyObject *sample_lines(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "sample_lines(prefix, data_time, keys, values, realtime)");
        return NULL;
    }
    PyObject *keys = args[2], *values = args[3];
    if (!PyTuple_Check(keys) || !PyTuple_Check(values)) {
        PyErr_SetString(PyExc_TypeError, "keys and values must be tuples");
        return NULL;
    }
    int realtime = PyObject_IsTrue(args[4]);
    if (realtime < 0) {
        return NULL;
    }
    Py_ssize_t prefix_len, time_len;
    const char *prefix = ascii_of(args[0], &prefix_len);
    const char *data_time = ascii_of(args[1], &time_len);
    Py_ssize_t count = PyTuple_GET_SIZE(keys);
    if (prefix == NULL || data_time == NULL || PyTuple_GET_SIZE(values) != count) {
        Py_RETURN_NONE;
    }
    if (!configured) {
        Py_RETURN_NONE;
    }
    const Suffixes *suffixes = realtime ? &realtime_suffixes : &interval_suffixes;
    Group groups[MAX_GROUPS];
    int used = 0;
    Group *current = NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t key_len, value_len;
        const char *key = ascii_of(PyTuple_GET_ITEM(keys, i), &key_len);
        PyObject *value = PyTuple_GET_ITEM(values, i);
        const char *text = ascii_of(value, &value_len);
        if (key == NULL || text == NULL) {
            Py_RETURN_NONE;
        }
        const char *dash = memchr(key, '-', (size_t)key_len);
        if (dash == NULL) {
            continue; /* a plain item (DataTime ...) */
        }
        Py_ssize_t code_len = dash - key;
        if (current == NULL || current->code_len != code_len || memcmp(current->code, key, (size_t)code_len) != 0) {
            for (int g = 0; g < used; g++) {
                if (groups[g].code_len == code_len && memcmp(groups[g].code, key, (size_t)code_len) == 0) {
                    Py_RETURN_NONE; /* not contiguous */
                }
            }
            if (used == MAX_GROUPS || !is_code(key, code_len)) {
                Py_RETURN_NONE;
            }
            current = &groups[used++];
            current->code = key;
            current->code_len = code_len;
            memset(current->slot, 0, sizeof(current->slot));
        }
        int slot = slot_of(dash + 1, key_len - code_len - 1, suffixes);
        if (slot < 0) {
            Py_RETURN_NONE;
        }
        if (current->slot[slot] != NULL) {
            continue; /* a repeated suffix: the first value counts */
        }
        int fits = slot < COLUMNS      ? is_number(text, value_len)
                   : slot == FLAG_SLOT ? is_flag(text, value_len, 4)
                                       : is_flag(text, value_len, 8);
        if (!fits) {
            Py_RETURN_NONE;
        }
        current->slot[slot] = value;
    }
    PyObject *lines = PyList_New(0);
    PyObject *meta = PyList_New(0);
    if (lines == NULL || meta == NULL) {
        goto error;
    }
    for (int g = 0; g < used; g++) {
        if (emit(&groups[g], prefix, prefix_len, data_time, time_len, lines, meta) < 0) {
            goto error;
        }
    }
    PyObject *result = PyTuple_Pack(2, lines, meta);
    Py_DECREF(lines);
    Py_DECREF(meta);
    return result;
error:
    Py_XDECREF(lines);
    Py_XDECREF(meta);
    return NULL;
}

static int take_suffixes(PyObject *given, Suffixes *into) {
    if (!PyTuple_Check(given) || PyTuple_GET_SIZE(given) != COLUMNS) {
        PyErr_Format(PyExc_ValueError, "configure() takes two tuples of %d suffixes", COLUMNS);
        return -1;
    }
    for (int i = 0; i < COLUMNS; i++) {
        Py_ssize_t size;
        const char *text = ascii_of(PyTuple_GET_ITEM(given, i), &size);
        if (text == NULL || size == 0 || size >= SUFFIX_MAX) {
            PyErr_SetString(PyExc_ValueError, "a suffix is ASCII text of 1 to 15 characters");
            return -1;
        }
        memcpy(into->text[i], text, (size_t)size);
        into->size[i] = size;
    }
    return 0;
}

static PyObject *configure(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "configure(realtime_suffixes, interval_suffixes)");
        return NULL;
    }
    if (take_suffixes(args[0], &realtime_suffixes) < 0 || take_suffixes(args[1], &interval_suffixes) < 0) {
        configured = 0;
        return NULL;
    }
    configured = 1;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"configure", (PyCFunction)(void (*)(void))configure, METH_FASTCALL,
     "configure(realtime_suffixes, interval_suffixes): the value columns' suffixes in column order"},
    {"sample_lines", (PyCFunction)(void (*)(void))sample_lines, METH_FASTCALL,
     "sample_lines(prefix, data_time, keys, values, realtime) -> (lines, meta) or None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "totalcap.ingest.gateway._fastrows", "Sample lines of clean data frames, in C.", -1,
    methods,
};

PyMODINIT_FUNC PyInit__fastrows(void) {
    empty_text = PyUnicode_FromStringAndSize("", 0);
    if (empty_text == NULL) {
        return NULL;
    }
    return PyModule_Create(&module_def);
}
