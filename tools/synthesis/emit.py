"""The synthesized harness as C++, in the protocol of the shipped ones: it includes
``ellora_harness.hpp`` and the code under test (``ELLORA_TARGET``), makes every input from
the case's seeded generator at the case's size, calls the function once in check mode (1 +
repeats times in time mode) and writes every output as doubles: each container or scalar
the function may change (non-const references, pointers to non-const) and the return value.
"""

from __future__ import annotations

import re

from ellora.tools.loops.cxx_types import CType
from ellora.tools.synthesis.domain import RECORDS_PER_INDEX, SIZE, Domain
from ellora.tools.synthesis.facts import Facts
from ellora.tools.synthesis.quantity import IROOT_CPP, cpp_name
from ellora.tools.synthesis.target import CannotSynthesize, Param, Target, struct_members
from ellora.tools.synthesis.values import ValueRules

PRELUDE = """namespace ellora_synth {
""" + IROOT_CPP + """
[[noreturn]] inline void domain_error(const char* what) {
  std::fprintf(stderr, "ellora-harness: input domain: %s\\n", what);
  std::exit(3);
}
inline void require(bool holds, const char* what) { if (!holds) domain_error(what); }

template <class T>
std::vector<T> ints(ellora::Case& c, long long n, long long lo, long long hi, bool nonzero = false,
                    bool sorted = false) {
  std::vector<T> out(static_cast<std::size_t>(n > 0 ? n : 0));
  if (out.empty()) return out;
  if (hi < lo) domain_error("an index input has an empty range");
  std::vector<long long> drawn = c.random_ints<long long>(out.size(), lo, hi);
  if (sorted) std::sort(drawn.begin(), drawn.end());
  for (std::size_t k = 0; k < out.size(); ++k) {
    long long v = drawn[k];
    if (nonzero && v == 0) v = hi >= 1 ? 1 : -1;
    out[k] = static_cast<T>(v);
  }
  return out;
}

template <class T>
std::vector<T> distinct_ints(ellora::Case& c, long long n, bool is_signed) {
  std::vector<T> out(static_cast<std::size_t>(n > 0 ? n : 0));
  for (std::size_t k = 0; k < out.size(); ++k)
    out[k] = static_cast<T>(static_cast<long long>(k) - (is_signed ? n / 2 : 0));
  for (std::size_t k = out.size(); k > 1; --k) {  // Fisher-Yates with the case's generator
    std::size_t j = static_cast<std::size_t>(c.uniform() * static_cast<double>(k));
    std::swap(out[k - 1], out[j < k ? j : k - 1]);
  }
  return out;
}

template <class T>
std::vector<T> reals(ellora::Case& c, long long n, double lo, double hi, bool away_from_zero,
                     bool some_nan) {
  std::vector<double> drawn = c.random_reals<double>(static_cast<std::size_t>(n > 0 ? n : 0), lo, hi);
  std::vector<T> out(drawn.size());
  for (std::size_t k = 0; k < out.size(); ++k) {
    double v = drawn[k];
    if (away_from_zero && v > -0.5 && v < 0.5) v = v < 0 ? v - 0.5 : v + 0.5;
    if (some_nan && k % 17 == 5) v = __builtin_nan("");
    out[k] = static_cast<T>(v);
  }
  return out;
}

inline std::string text(ellora::Case& c, long long shortest, long long lo, long long hi) {
  long long length = shortest + static_cast<long long>(c.uniform() * 9.0);
  std::vector<long long> codes = c.random_ints<long long>(static_cast<std::size_t>(length), lo, hi);
  std::string out;
  for (long long code : codes) out.push_back(static_cast<char>(code));
  return out;
}

inline void put(ellora::Case& c, double v) { c.output_scalar(v); }
inline void put(ellora::Case& c, const std::string& s) {
  put(c, static_cast<double>(s.size()));
  for (char ch : s) put(c, static_cast<double>(ch));
}
inline void put(ellora::Case& c, const std::vector<bool>& v) {
  put(c, static_cast<double>(v.size()));
  for (bool b : v) put(c, b ? 1.0 : 0.0);
}
"""

PRELUDE_COMPLEX = """template <class T>
void put(ellora::Case& c, const std::complex<T>& v) { put(c, static_cast<double>(v.real())); put(c, static_cast<double>(v.imag())); }
"""

PRELUDE_CONTAINERS = """template <class T>
void put(ellora::Case& c, const std::vector<T>& v) {
  put(c, static_cast<double>(v.size()));
  for (const auto& e : v) put(c, e);
}
template <class T, std::size_t N>
void put(ellora::Case& c, const std::array<T, N>& v) { for (const auto& e : v) put(c, e); }
template <class T>
void put_all(ellora::Case& c, const std::vector<T>& v) { for (const auto& e : v) put(c, e); }
"""

REPEATS = 3  # compared calls per run (see _Writer._call_and_outputs)
INCLUDES = ["algorithm", "cstdio", "cstdlib", "string", "type_traits", "vector"]


def render(target: Target, facts: Facts, domain: Domain, rules: ValueRules, origin: str,
           sizes: list[int]) -> tuple[str, list[str]]:
    """The whole harness file, and the outputs it compares."""
    writer = _Writer(target, facts, domain, rules, sizes)
    body = writer.main_body()
    lines = _comment(target, facts, domain, writer, origin, sizes)
    lines += [f"#include <{name}>" for name in _includes(target)]
    complex_values = "complex" in target.parsed.source
    lines += ["", '#include "ellora_harness.hpp"', "#include ELLORA_TARGET", ""]
    declarations, definitions = writer.struct_puts()
    lines += [PRELUDE.rstrip("\n"), *([PRELUDE_COMPLEX.rstrip("\n")] * complex_values),
              *declarations, PRELUDE_CONTAINERS.rstrip("\n"),
              *definitions, "}  // namespace ellora_synth", ""]
    lines += ["int main(int argc, char** argv) {",
              "  return ellora::run(argc, argv, [](ellora::Case& ellora_case) {"]
    lines += ["    " + line if line else "" for line in body]
    lines += ["  });", "}", ""]
    return "\n".join(lines), writer.outputs


def _comment(target: Target, facts: Facts, domain: Domain, writer, origin: str,
             sizes: list[int]) -> list[str]:
    lines = [f"// Differential test and timing harness for {target.name}() in {origin},",
             ("// synthesized by Ellora from the function itself (ellora_harness.hpp "
              "protocol: built twice,"),
             ("// -DELLORA_TARGET=\"original.cpp\" and \"candidate.cpp\", same --size and "
              "--seed, outputs compared)."),
             (f"// --size S: base size d = round(S^(1/{domain.degree})); every dimension is "
              "d plus its own offset, at least its minimum."),
             (f"// Checked to keep every index in range at sizes {', '.join(map(str, sizes))};"
              " other sizes are checked when the harness runs."),
             f"// Inputs (lengths listed for sizes {' / '.join(map(str, sizes))}):"]
    if domain.record_lists:
        lines.insert(-2, f"// {', '.join(domain.record_lists)}: records whose members index "
                     f"other inputs, {RECORDS_PER_INDEX} per base size (a sparse matrix or "
                     "graph holds several entries per row).")
    lines += [f"//   {line}" for line in writer.described]
    lines.append("// Outputs compared: " + (", ".join(writer.outputs) or "none"))
    for note in facts.notes[:6]:
        lines.append(f"// Note: {note}")
    return [*lines, ""]


class _Writer:
    """Writes the body of main: quantities, checks, inputs, the call and the outputs."""

    def __init__(self, target: Target, facts: Facts, domain: Domain, rules: ValueRules,
                 sizes: list[int]):
        self.target, self.facts, self.domain, self.rules = target, facts, domain, rules
        self.values = [domain.values_at(size) for size in sizes]
        self.lines: list[str] = []
        self.described: list[str] = []
        self.outputs: list[str] = []
        self.structs_to_put: dict[str, dict[str, CType]] = {}

    def main_body(self) -> list[str]:
        self.lines.append(f"const long long {cpp_name(SIZE)} = static_cast<long long>("
                          "ellora_case.size());")
        for name, value in sorted(self.domain.minimums.items()):
            self.lines.append(f"const long long {cpp_name(name)} = {value}LL;")
        for name, expr in self.domain.quantities:
            self.lines.append(f"const long long {cpp_name(name)} = {expr.cpp()};")
        for check in self.domain.checks:
            self.lines.append(f"ellora_synth::require({check.expr.cpp()} >= 0, "
                              f"{_c_string(check.message)});")
        for param in self.target.params:
            self._param(param)
        self._call_and_outputs()
        return self.lines

    # ----- inputs -------------------------------------------------------------------------
    def _param(self, param: Param) -> None:
        ctype = param.ctype
        kind = ctype.kind
        if kind in ("scalar", "bool", "complex"):
            self._scalar_param(param)
        elif kind in ("vector", "bool_vector", "std_array", "string"):
            self._container(param.var, param.name, ctype)
            self.described.append(f"{param.name}: {self._extent_text(param.name)} elements"
                                  f"{self._values_text(param.name, ctype.element)}")
        elif kind in ("pointer", "array", "span"):
            self._buffer_param(param)
        elif kind == "struct":
            self._struct_param(param)
        else:
            raise CannotSynthesize(f"the parameter {param.name} has type {ctype.name}, which "
                                   "the harness cannot generate")

    def _scalar_param(self, param: Param) -> None:
        ctype, name = param.ctype, param.name
        spelled = _value_type(ctype)
        if name in self.domain.dims:
            self.lines.append(f"{spelled} {param.var} = static_cast<{spelled}>("
                              f"{cpp_name('dim:' + name)});")
            self.described.append(f"{name}: {self._listed('dim:' + name)} (a dimension)")
            return
        self.lines.append(f"{spelled} {param.var} = "
                          f"{self.rules.scalar(name, ctype, self.domain)};")
        self.described.append(f"{name}: {self._values_text(name, ctype).lstrip(', ')}")

    def _container(self, var: str, path: str, ctype: CType) -> None:
        """Declare and fill ``var`` (a vector, vector<bool>, std::array or string)."""
        count = cpp_name(f"ext:{path}")
        element = ctype.element
        if ctype.kind == "std_array":
            self.lines.append(f"{_value_type(ctype)} {var}{{}};")
            self.lines.append("{")
            self.lines.append(f"  auto ellora_values = {self._elements(path, element, count)};")
            self.lines.append(f"  std::copy(ellora_values.begin(), ellora_values.end(), "
                              f"{var}.begin());")
            self.lines.append("}")
            return
        if ctype.kind == "string":
            low, high = self.rules.char_range(path + "[]", self.domain)
            self.lines.append(f"std::string {var} = ellora_synth::text(ellora_case, {count}, "
                              f"{low}, {high});")
            self.lines.append(f"{var}.resize(static_cast<std::size_t>({count}));")
            return
        if ctype.kind == "bool_vector":
            self.lines.append(f"std::vector<bool> {var};")
            self.lines.append("{")
            self.lines.append(f"  auto ellora_bits = {self._elements(path, element, count)};")
            self.lines.append(f"  {var}.assign(ellora_bits.begin(), ellora_bits.end());")
            self.lines.append("}")
            return
        self.lines.append(f"{_value_type(ctype)} {var} = "
                          f"{self._elements(path, element, count)};")

    def _elements(self, path: str, element: CType | None, count: str) -> str:
        """An expression giving a std::vector of ``count`` elements of ``element``."""
        if element is None:
            raise CannotSynthesize(f"the elements of {path} have no type the harness knows")
        kind = element.kind
        if kind in ("scalar", "bool"):
            return self.rules.vector(path, element, count, self.domain)
        if kind == "complex":
            part = element.element or CType("scalar", "double")
            return (f"[&] {{ auto re = {self.rules.vector(path, part, count, self.domain)}; "
                    f"auto im = {self.rules.vector(path, part, count, self.domain)}; "
                    f"std::vector<{_value_type(element)}> v(re.size()); for (std::size_t k = 0; "
                    "k < v.size(); ++k) v[k] = {re[k], im[k]}; return v; }()")
        if kind == "string":
            inner = path + "[]"
            low, high = self.rules.char_range(inner, self.domain)
            shortest = cpp_name(f"ext:{inner}") if f"ext:{inner}" in dict(
                self.domain.quantities) else "0LL"
            return (f"[&] {{ std::vector<std::string> v(static_cast<std::size_t>({count})); "
                    f"for (auto& s : v) s = ellora_synth::text(ellora_case, {shortest}, {low}, "
                    f"{high}); return v; }}()")
        if kind == "vector":
            inner = path + "[]"
            length = cpp_name(f"ext:{inner}")
            if f"ext:{inner}" not in dict(self.domain.quantities):
                raise CannotSynthesize(f"the rows of {path} are never indexed: their length "
                                       "is unknown")
            row = self._elements(inner, element.element, length)
            return (f"[&] {{ std::vector<{_value_type(element)}> v(static_cast<std::size_t>"
                    f"({count})); for (auto& r : v) r = {row}; return v; }}()")
        if kind == "struct":
            return self._struct_elements(path, element, count)
        raise CannotSynthesize(f"the elements of {path} have type {element.name}, which the "
                               "harness cannot generate")

    def _struct_elements(self, path: str, element: CType, count: str) -> str:
        members = struct_members(self.target, element)
        if members is None:
            raise CannotSynthesize(f"the elements of {path} are {element.name}, whose "
                                   "definition is not in the file")
        parts = [f"std::vector<{_value_type(element)}> v(static_cast<std::size_t>({count}));"]
        for member, ctype in members.items():
            if ctype.kind in ("scalar", "bool", "complex", "string"):
                values = self._member_values(f"{path}.{member}", ctype, count)
                parts.append(f"{{ auto m = {values}; for (std::size_t k = 0; k < v.size(); "
                             f"++k) v[k].{member} = m[k]; }}")
            else:
                raise CannotSynthesize(f"the member {element.name}::{member} has type "
                                       f"{ctype.name}, which the harness cannot generate")
        parts.append("return v;")
        return "[&] { " + " ".join(parts) + " }()"

    def _member_values(self, path: str, ctype: CType, count: str) -> str:
        if ctype.kind == "string":
            low, high = self.rules.char_range(path + "[]", self.domain)
            return (f"[&] {{ std::vector<std::string> s(static_cast<std::size_t>({count})); "
                    f"for (auto& t : s) t = ellora_synth::text(ellora_case, 0, {low}, {high}); "
                    "return s; }()")
        return self._elements(path, ctype, count)

    def _buffer_param(self, param: Param) -> None:
        """A pointer, C array or span: a vector owns the storage, the call gets its data."""
        ctype = param.ctype
        element = ctype.element
        if element is None or element.kind not in ("scalar", "complex", "struct"):
            raise CannotSynthesize(f"the parameter {param.name} points to "
                                   f"{element.name if element else 'an unknown type'}, which "
                                   "the harness cannot generate")
        storage = f"{param.var}_data"
        count = cpp_name(f"ext:{param.name}")
        self.lines.append(f"std::vector<{_value_type(element)}> {storage} = "
                          f"{self._elements(param.name, element, count)};")
        if ctype.kind == "span":
            self.lines.append(f"{_value_type(ctype)} {param.var}({storage});")
        else:
            self.lines.append(f"auto* {param.var} = {storage}.data();")
        self.described.append(f"{param.name}: {self._extent_text(param.name)} elements"
                              f"{self._values_text(param.name, element)}")

    def _struct_param(self, param: Param) -> None:
        members = struct_members(self.target, param.ctype)
        if members is None:
            raise CannotSynthesize(f"the parameter {param.name} has type {param.ctype.name}, "
                                   "whose definition is not in the file")
        self.lines.append(f"{_value_type(param.ctype)} {param.var}{{}};")
        for member, ctype in members.items():
            path = f"{param.name}.{member}"
            target = f"{param.var}.{member}"
            if path in self.domain.dims:
                self.lines.append(f"{target} = static_cast<{_value_type(ctype)}>("
                                  f"{cpp_name('dim:' + path)});")
            elif ctype.kind in ("scalar", "bool", "complex"):
                self.lines.append(f"{target} = {self.rules.scalar(path, ctype, self.domain)};")
            elif ctype.kind in ("vector", "bool_vector", "std_array", "string"):
                holder = f"ellora_{_ident(path)}"
                self._container(holder, path, ctype)
                self.lines.append(f"{target} = std::move({holder});")
            else:
                raise CannotSynthesize(f"the member {path} has type {ctype.name}, which the "
                                       "harness cannot generate")
        self.described.append(f"{param.name}: a {param.ctype.name} with every member set")

    # ----- the call and what it changes ---------------------------------------------------------
    def _call_and_outputs(self) -> None:
        """The compared call (the timed one in time mode) and its outputs, then the same call
        again on fresh copies of the same inputs, ``REPEATS - 1`` times, outputs appended.

        A first call on copies (outputs discarded) starts the threads and warms the caches,
        so the compared calls find the threads running: a race in a short kernel otherwise
        hides behind the first parallel region's thread start-up. The repeats give a race
        more chances to show inside one run; a correct port writes the same values each time.
        """
        mutable = [p for p in self.target.params if p.mutable]
        # one call site, not inlined: the function is compiled once, not once per call below
        self.lines.append("auto ellora_call = [&](auto&... ellora_arguments) "
                          "__attribute__((noinline)) {")
        self.lines.append(f"  return {self.target.call}(ellora_arguments...);")
        self.lines.append("};")
        for param in mutable:
            source = f"{param.var}_data" if _is_buffer(param) else param.var
            self.lines.append(f"const auto ellora_pristine_{param.name} = {source};")
        self.lines.append("{  // warm-up on copies of the inputs; its outputs are discarded")
        arguments = self._copies("ellora_warm")
        self.lines.append(f"  static_cast<void>(ellora_call({arguments}));")
        self.lines.append("}")
        call = f"ellora_call({', '.join(p.var for p in self.target.params)})"
        if self.target.returns is not None:
            self.lines.append(f"std::optional<std::decay_t<decltype({call})>> ellora_result;")
            self.lines.append(f"ellora_case.kernel([&] {{ ellora_result.emplace({call}); }});")
            self.lines.append("ellora_synth::put(ellora_case, *ellora_result);")
            self._remember_struct(self.target.returns)
            self.outputs.append("the return value")
        else:
            self.lines.append(f"ellora_case.kernel([&] {{ {call}; }});")
        for param in mutable:
            self._put(param, f"{param.var}_data" if _is_buffer(param) else param.var)
            self.outputs.append(param.name)
        self.lines.append(f"for (int ellora_round = 1; ellora_round < {REPEATS}; "
                          "++ellora_round) {  // the same call again on fresh copies")
        arguments = self._copies("ellora_again")
        if self.target.returns is not None:
            self.lines.append(f"  ellora_synth::put(ellora_case, ellora_call({arguments}));")
        else:
            self.lines.append(f"  ellora_call({arguments});")
        for param in mutable:
            self.lines.append("  " + self._put_text(param, f"ellora_again_{param.name}"
                                                    + ("_data" if _is_buffer(param) else "")))
        self.lines.append("}")
        self.outputs.append(f"(the call repeated {REPEATS - 1} more times on fresh copies of the"
                            " inputs)")

    def _copies(self, prefix: str) -> str:
        """Declare fresh copies of the pristine mutable inputs; the call's argument list."""
        arguments = []
        for param in self.target.params:
            if not param.mutable:
                arguments.append(param.var)
                continue
            copy = f"{prefix}_{param.name}"
            pristine = f"ellora_pristine_{param.name}"
            if _is_buffer(param):
                self.lines.append(f"  auto {copy}_data = {pristine};")
                if param.ctype.kind == "span":
                    self.lines.append(f"  {_value_type(param.ctype)} {copy}({copy}_data);")
                else:
                    self.lines.append(f"  auto* {copy} = {copy}_data.data();")
            else:
                self.lines.append(f"  auto {copy} = {pristine};")
            arguments.append(copy)
        return ", ".join(arguments)

    def _put(self, param: Param, expression: str) -> None:
        self.lines.append(self._put_text(param, expression))
        self._remember_struct(param.ctype.element if _is_buffer(param) else param.ctype)

    @staticmethod
    def _put_text(param: Param, expression: str) -> str:
        function = "put_all" if _is_buffer(param) else "put"
        return f"ellora_synth::{function}(ellora_case, {expression});"

    def _remember_struct(self, ctype: CType | None) -> None:
        while ctype is not None and ctype.kind in ("vector", "std_array", "pointer", "span",
                                                   "array"):
            ctype = ctype.element
        if ctype is not None and ctype.kind == "struct":
            members = struct_members(self.target, ctype)
            if members is None:
                raise CannotSynthesize(f"the output type {ctype.name} is not defined in the "
                                       "file: the harness cannot compare it")
            self.structs_to_put[_value_type(ctype)] = members
            for member_type in members.values():
                self._remember_struct(member_type)

    def struct_puts(self) -> tuple[list[str], list[str]]:
        """put() for each struct type an output holds (declarations, definitions): every
        member the harness can read."""
        declarations, definitions = [], []
        for name, members in self.structs_to_put.items():
            signature = f"inline void put(ellora::Case& c, const {name}& v)"
            declarations.append(signature + ";")
            puts = [f"put(c, v.{m});" for m, t in members.items()
                    if t.kind in ("scalar", "bool", "complex", "string", "vector", "std_array",
                                  "struct", "bool_vector")]
            definitions.append(signature + " { " + " ".join(puts) + " }")
        return declarations, definitions

    def _values_text(self, path: str, ctype: CType | None) -> str:
        """The values ``path`` gets: an index input's range per size, else the rule's words."""
        ranged = [(source, ends) for source, ends in sorted(self.domain.ranges.items())
                  if source == path or source.startswith((path + ".", path + "[]"))]
        if not ranged:
            return self.rules.describe(path, ctype)
        parts = []
        for source, (low, high) in ranged:
            name = source[len(path):].lstrip(".") or "values"
            order = ", sorted" if source in self.domain.sorted_sources else ""
            spans = " / ".join(f"[{v.get(low)}, {v.get(high)}]" for v in self.values)
            parts.append(f"{name} in {spans}{order}")
        return ", index values: " + "; ".join(parts)

    def _extent_text(self, path: str) -> str:
        return self._listed(f"ext:{path}")

    def _listed(self, quantity: str) -> str:
        return " / ".join(str(values.get(quantity, "?")) for values in self.values)


def _includes(target: Target) -> list[str]:
    """The headers the harness needs; <complex>, <array> and <optional> only when used
    (<complex> alone adds 0.3 s to a build)."""
    source = target.parsed.source
    extra = [name for name, used in (("complex", "complex" in source),
                                     ("array", "array" in source),
                                     ("optional", target.returns is not None)) if used]
    return sorted(INCLUDES + extra)


def _is_buffer(param: Param) -> bool:
    """A pointer, C array or span: the harness owns its storage in ``<var>_data``."""
    return param.ctype.kind in ("pointer", "array", "span")


def element_bytes(target: Target, path: str) -> int:
    """About how many bytes one element of the container ``path`` takes."""
    param = target.param(path.split(".")[0])
    ctype = param.ctype if param is not None else None
    for member in path.split(".")[1:] if param is not None else []:
        members = struct_members(target, ctype) if ctype is not None else None
        ctype = members.get(member) if members else None
    element = ctype.element if ctype is not None else None
    return _value_bytes(target, element) if element is not None else 8


def _value_bytes(target: Target, ctype: CType, depth: int = 0) -> int:
    if ctype.kind == "struct" and depth < 3:
        members = struct_members(target, ctype) or {}
        return sum(_value_bytes(target, m, depth + 1) for m in members.values()) or 8
    if ctype.kind == "complex":
        return 16
    if ctype.kind == "string":
        return 40
    if ctype.kind in ("bool", "bool_vector"):
        return 1
    compact = "".join(ctype.name.split())
    if "char" in compact or compact.endswith("int8_t"):
        return 1
    if compact in ("float", "int", "unsigned", "unsignedint", "int32_t", "uint32_t",
                   "std::int32_t", "std::uint32_t"):
        return 4
    return 8


def _value_type(ctype: CType) -> str:
    """The type spelled without top-level const, reference or pointer qualifiers."""
    name = ctype.name
    name = re.sub(r"^const\s+", "", name).rstrip("&").strip()
    return name


def _ident(path: str) -> str:
    return re.sub(r"\W", "_", path)


def _c_string(message: str) -> str:
    return '"' + message.replace("\\", "\\\\").replace('"', '\\"') + '"'
