"""The one table of Fortran intrinsic procedures, for the dependence rules.

Elemental and transformational functions compute a value from their arguments: a loop may
call them from several threads. Inquiry functions (``size``, ``lbound``, ``kind``) read no
element of their array argument. Reductions over arrays (``sum(x)``, ``maxval(x)``,
``dot_product``) read all of their array arguments. Subroutines such as
``random_number``, ``cpu_time`` and ``system_clock`` change state a caller can see.
"""

from __future__ import annotations

ELEMENTAL = {
    "abs", "acos", "acosh", "aimag", "aint", "anint", "asin", "asinh", "atan", "atan2", "atanh",
    "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "btest", "ceiling", "char", "cmplx",
    "conjg", "cos", "cosh", "dble", "dim", "dprod", "erf", "erfc", "exp", "exponent", "floor",
    "fraction", "gamma", "hypot", "iachar", "iand", "ibclr", "ibits", "ibset", "ichar", "ieor",
    "int", "ior", "ishft", "ishftc", "leadz", "log", "log10", "log_gamma", "logical", "max",
    "merge", "min", "mod", "modulo", "nearest", "nint", "not", "popcnt", "poppar", "real",
    "rrspacing", "scale", "set_exponent", "sign", "sin", "sinh", "spacing", "sqrt", "tan",
    "tanh", "trailz", "achar", "adjustl", "adjustr", "len_trim", "index", "scan", "verify",
    "shifta", "shiftl", "shiftr", "dshiftl", "dshiftr", "float", "sngl", "dsqrt", "dexp",
    "dlog", "dsin", "dcos", "dabs", "iabs", "amax1", "amin1", "dmax1", "dmin1", "max0",
    "min0", "idint", "ifix", "is_iostat_end", "ieee_is_nan", "ieee_is_finite", "isnan",
    "lge", "lgt", "lle", "llt", "new_line", "maskl", "maskr", "merge_bits", "bge", "bgt",
    "ble", "blt", "out_of_range",
}
INQUIRY = {
    "size", "lbound", "ubound", "shape", "kind", "len", "allocated", "associated", "present",
    "huge", "tiny", "epsilon", "precision", "range", "radix", "digits", "minexponent",
    "maxexponent", "bit_size", "storage_size", "selected_real_kind", "selected_int_kind",
    "is_contiguous", "rank", "c_sizeof", "sizeof",
}
# transformational functions: read all of their array arguments, change nothing
READS_ALL = {
    "sum", "product", "maxval", "minval", "maxloc", "minloc", "count", "any", "all",
    "dot_product", "matmul", "transpose", "reshape", "norm2", "pack", "unpack", "spread",
    "cshift", "eoshift", "trim", "repeat", "findloc", "iall", "iany", "iparity",
    "parity", "transfer",
}
# intrinsic subroutines whose effects are visible outside the call
IMPURE_SUBROUTINES = {
    "random_number", "random_seed", "cpu_time", "system_clock", "date_and_time",
    "get_command_argument", "execute_command_line", "move_alloc", "mvbits",
}
# intrinsic functions mapped to the operators of the language-neutral terms
OPERATOR_CALLS = {"iand": "&", "ior": "|", "ieor": "^"}


def is_intrinsic(name: str) -> bool:
    return name in ELEMENTAL or name in INQUIRY or name in READS_ALL or \
        name in IMPURE_SUBROUTINES


def intrinsic_effect(name: str) -> str | None:
    """``pure`` (a value from the arguments), ``inquiry`` (reads no element), ``reads``
    (reads whole arrays), ``impure`` or None for a name not in the table."""
    if name in INQUIRY:
        return "inquiry"
    if name in ELEMENTAL:
        return "pure"
    if name in READS_ALL:
        return "reads"
    if name in IMPURE_SUBROUTINES:
        return "impure"
    return None
