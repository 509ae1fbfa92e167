/* hj212._crc: the HJ 212 CRC (HJ 212-2017 Appendix A) in C.
 *
 * The standard's algorithm keeps a 16-bit register, XORs each byte into its high byte's place after
 * shifting it right by 8, then runs 8 reflected steps with the polynomial 0xA001.  The 8 steps are one
 * table look-up: reg = (reg >> 8) ^ T[reg & 0xFF].  hj212.crc holds the pure-Python version (used when
 * this module was not built) and the literal bitwise one the tests compare both with.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

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

static PyMethodDef methods[] = {
    {"crc16_hj212", crc16_hj212, METH_O, "HJ 212 CRC of a bytes-like object as an int 0..0xFFFF."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "hj212._crc", "The HJ 212 CRC in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__crc(void) {
    make_table();
    return PyModule_Create(&module_def);
}
