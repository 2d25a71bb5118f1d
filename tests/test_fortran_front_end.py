"""The Fortran front end builds the same typed loop model the C++ one does: headers, subscripts
per dimension (lower bounds, sections), scopes with intents and attributes, private
temporaries, calls, and the terms the language-neutral rules read."""

import pytest
from ellora.tools.loops.cpp.header import NotCounted
from ellora.tools.loops.expr import Poly
from ellora.tools.loops.fortran import FortranSource
from ellora.tools.loops.legality import decide


def module(body: str, declarations: str = "") -> str:
    return f"module m\n  implicit none\n{declarations}contains\n{body}\nend module m\n"


def models(source: str):
    parsed = FortranSource(source)
    return parsed, [parsed.loop_model(loop) for loop in parsed.loops_in_lines(1, 10_000)]


def only_model(source: str):
    _, found = models(source)
    assert len(found) == 1
    return found[0]


def test_headers_with_steps_negative_steps_and_expressions():
    source = module("""  subroutine s(n, x)
    integer, intent(in) :: n
    real(8), intent(inout) :: x(0:n)
    integer :: i
    do i = 2, n - 1, 3
      x(i) = 0
    end do
    DO I = N, 1, -2
      X(I) = 1
    END DO
  end subroutine s""")
    _, (up, down) = models(source)
    assert (up.header.var, up.header.lower, up.header.upper, up.header.step) == (
        "i", Poly.const(2), Poly.symbol("n"), Poly.const(3))
    assert not up.header.descending
    assert down.header.descending and down.header.step == Poly.const(2)
    assert (down.header.lower, down.header.upper) == (Poly.const(1), Poly.symbol("n") + 1)
    assert down.accesses[0].base == "x", "names are compared lower-cased"


def test_do_while_and_bare_do_are_not_counted():
    source = module("""  subroutine s(x)
    real(8), intent(inout) :: x
    do while (x > 1)
      x = x / 2
    end do
    do
      x = x - 1
      if (x < 0) exit
    end do
  end subroutine s""")
    parsed = FortranSource(source)
    assert parsed.loops_in_lines(1, 100) == []
    kinds = [parsed.loop_kind(loop) for loop in parsed.uncounted_loops(1, 100)]
    assert kinds == ["do while", "unbounded do"]
    with pytest.raises(NotCounted):
        parsed.loop_model(parsed.uncounted_loops(1, 100)[0])


def test_a_variable_step_has_no_known_direction():
    source = module("""  subroutine s(n, k, x)
    integer, intent(in) :: n, k
    real(8), intent(inout) :: x(n)
    integer :: i
    do i = 1, n, k
      x(i) = 0
    end do
  end subroutine s""")
    parsed = FortranSource(source)
    with pytest.raises(NotCounted, match="not a constant"):
        parsed.loop_model(parsed.loops_in_lines(1, 100)[0])


def test_do_concurrent_indices_and_mask():
    source = module("""  subroutine s(n, a)
    integer, intent(in) :: n
    real(8), intent(inout) :: a(n, n)
    integer :: i, j
    do concurrent (i = 1:n, j = 1:n, a(i, j) > 0)
      a(i, j) = -a(i, j)
    end do
  end subroutine s""")
    model = only_model(source)
    assert model.header.var == "i" and [h.var for h in model.inner] == ["j"]
    write = next(a for a in model.accesses if a.writes)
    assert write.conditional and write.indices == (Poly.symbol("i"), Poly.symbol("j"))
    verdict = decide(model)
    assert verdict.parallel and verdict.pattern == "map"


def test_column_major_subscripts_are_coordinates_and_lower_bounds_are_kept():
    source = module("""  subroutine s(n, u, v, w)
    integer, intent(in) :: n
    real(8), intent(in) :: u(0:n + 1, n)
    real(8), intent(out) :: v(n, n)
    real(8), intent(inout) :: w(-3:3)
    integer :: i, j
    do j = 1, n
      do i = 1, n
        v(i, j) = u(i - 1, j) + u(i + 1, j) + w(mod(i, 3))
      end do
    end do
  end subroutine s""")
    model = only_model(source)
    reads = {a.texts: a.indices for a in model.accesses if a.base == "u"}
    assert reads[("i - 1", "j")] == (Poly.symbol("i") - 1, Poly.symbol("j"))
    symbol = model.function.scope.lookup("u")
    assert [(d.lower, d.upper) for d in symbol.dims] == [("0", "n + 1"), ("1", "n")]
    assert model.function.scope.lookup("w").dims[0].lower == "-3"
    verdict = decide(model)
    assert verdict.parallel
    assert any("v: each iteration writes its own slice [j] of dimension 2" in f
               for f in verdict.facts)


def test_sections_are_implied_loops_of_the_access():
    source = module("""  subroutine s(n, a, b)
    integer, intent(in) :: n
    real(8), intent(inout) :: a(n, n)
    real(8), intent(in) :: b(n)
    integer :: j
    do j = 1, n
      a(:, j) = b(1:n) * 2
    end do
  end subroutine s""")
    model = only_model(source)
    write = next(a for a in model.accesses if a.writes)
    assert write.indices[1] == Poly.symbol("j") and len(write.loops) == 1
    section = write.loops[0]
    assert (section.lower, section.upper) == (Poly.const(1), Poly.symbol("n") + 1)
    assert decide(model).parallel


def test_element_or_function_reference_is_decided_by_the_scope():
    source = module("""  pure real(8) function f(v)
    real(8), intent(in) :: v
    f = 2 * v
  end function f
  subroutine s(n, x, y)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8), intent(out) :: y(n)
    integer :: i
    do i = 1, n
      y(i) = f(x(i)) + sqrt(x(i)) + x(i)**2
    end do
  end subroutine s""")
    model = only_model(source)
    assert sorted(a.base for a in model.accesses) == ["x", "x", "x", "y"]
    assert {c.effect.name: c.effect.kind for c in model.calls} == {"f": "user_pure",
                                                                   "sqrt": "pure"}
    assert decide(model).parallel


def test_private_temporaries_by_definition_before_use():
    source = module("""  subroutine s(n, a, b, c)
    integer, intent(in) :: n
    real(8), intent(in) :: a(n, n), b(n, n)
    real(8), intent(out) :: c(n, n)
    real(8) :: t
    integer :: i, j, k
    do j = 1, n
      do i = 1, n
        t = 0
        do k = 1, n
          t = t + a(i, k) * b(k, j)
        end do
        c(i, j) = t
      end do
    end do
  end subroutine s""")
    model = only_model(source)
    assert model.locals == {"t", "i", "k"}
    assert decide(model).parallel


def test_a_temporary_read_before_its_write_carries_a_value():
    source = module("""  subroutine s(n, x)
    integer, intent(in) :: n
    real(8), intent(inout) :: x(n)
    real(8) :: last
    integer :: i
    last = 0
    do i = 1, n
      if (i > 1) x(i) = x(i) + last
      last = 2 * i
    end do
  end subroutine s""")
    model = only_model(source)
    assert "last" not in model.locals
    verdict = decide(model)
    assert not verdict.parallel and verdict.dependence.subject == "last"


def test_a_temporary_read_after_the_loop_is_lastprivate():
    source = module("""  function s(n, x) result(t)
    integer, intent(in) :: n
    real(8), intent(inout) :: x(n)
    real(8) :: t
    integer :: i
    do i = 1, n
      t = x(i) * 2
      x(i) = t
    end do
  end function s""")
    verdict = decide(only_model(source))
    assert verdict.parallel and verdict.lastprivates == ["t"]


def test_private_integer_temporaries_stand_for_their_value_in_subscripts():
    source = module("""  subroutine s(n, x, y)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8), intent(out) :: y(n)
    integer :: i, j
    do i = 1, n
      j = mod(i, n) + 1
      y(i) = x(j) - x(i)
    end do
  end subroutine s""")
    model = only_model(source)
    read = next(a for a in model.accesses if a.texts == ("j",))
    assert read.indices[0] != Poly.symbol("j")
    assert decide(model).parallel


def test_reductions_in_fortran_spellings():
    source = module("""  subroutine s(n, x, k, total, most, all_positive, any_big, bits)
    integer, intent(in) :: n, k(n)
    real(8), intent(in) :: x(n)
    real(8), intent(inout) :: total, most
    logical, intent(inout) :: all_positive, any_big
    integer, intent(inout) :: bits
    integer :: i
    do i = 1, n
      total = total + x(i)
      most = max(most, x(i))
      all_positive = all_positive .and. x(i) > 0
      any_big = any_big .OR. x(i) .gt. 10
      bits = ior(bits, k(i))
    end do
  end subroutine s""")
    verdict = decide(only_model(source))
    assert {r.name: r.operator for r in verdict.reducers} == {
        "total": "+", "most": "max", "all_positive": "&&", "any_big": "||", "bits": "|"}


def test_guarded_extrema_and_argmin():
    source = module("""  subroutine s(n, x, best, at)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8), intent(inout) :: best
    integer, intent(inout) :: at
    integer :: i
    do i = 1, n
      if (x(i) < best) then
        best = x(i)
        at = i
      end if
    end do
  end subroutine s""")
    verdict = decide(only_model(source))
    assert verdict.pattern == "argmin" and verdict.locate.best == "best"


def test_self_updates_of_elements_are_scatter_adds():
    source = module("""  subroutine s(n, k, w, counts)
    integer, intent(in) :: n, k(n)
    real(8), intent(in) :: w(n)
    real(8), intent(inout) :: counts(100)
    integer :: i
    do i = 1, n
      counts(k(i)) = counts(k(i)) + w(i)
    end do
  end subroutine s""")
    model = only_model(source)
    update = next(a for a in model.accesses if a.base == "counts")
    assert (update.mode, update.operator) == ("update", "+=")
    assert decide(model).pattern == "scatter"


def test_dummy_arguments_rely_on_the_language_rule_and_say_so():
    source = module("""  subroutine s(n, x, y)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8), intent(inout) :: y(n)
    integer :: i
    do i = 2, n
      y(i) = x(i - 1)
    end do
  end subroutine s""")
    model = only_model(source)
    assert model.bases["y"].distinct and model.bases["x"].distinct
    verdict = decide(model)
    assert verdict.parallel
    assert any("x, y" in f and "rule relied on" in f for f in verdict.facts)


def test_pointer_and_target_arrays_may_share_storage():
    source = module("""  subroutine s(n, x, p)
    integer, intent(in) :: n
    real(8), intent(inout), target :: x(n)
    real(8), pointer :: p(:)
    integer :: i
    do i = 1, n
      x(i) = p(i) + 1
    end do
  end subroutine s""")
    model = only_model(source)
    assert not model.bases["p"].distinct and not model.bases["x"].distinct
    verdict = decide(model)
    assert verdict.dependence.kind == "alias"
    assert "a pointer" in verdict.dependence.text and "declared target" in verdict.dependence.text


def test_host_association_and_module_variables():
    source = """module m
  implicit none
  real(8) :: table(100)
  real(8) :: scale = 2
contains
  subroutine s(n, y)
    integer, intent(in) :: n
    real(8), intent(out) :: y(n)
    integer :: i
    do i = 1, n
      y(i) = scale * table(i) + inner(i)
    end do
  contains
    real(8) function inner(k)
      integer, intent(in) :: k
      inner = table(k)
    end function inner
  end subroutine s
end module m
"""
    model = only_model(source)
    scope = model.function.scope
    assert scope.lookup("table").where == "global" and scope.lookup("table").is_array
    assert any(c.effect.name == "inner" and c.effect.kind == "user_pure" for c in model.calls)
    assert decide(model).parallel


def test_implicit_typing_without_implicit_none():
    source = """subroutine s(n, x)
  dimension x(n)
  do i = 1, n
    t = x(i) * 2
    x(i) = t
  end do
end subroutine s
"""
    parsed = FortranSource(source)
    model = parsed.loop_model(parsed.loops_in_lines(1, 100)[0])
    scope = model.function.scope
    assert scope.lookup("t").implicit and scope.lookup("t").ftype.base == "real"
    assert scope.lookup("i").ftype.base == "integer"
    assert "t" in model.locals and decide(model).parallel


def test_terms_use_the_c_spellings_of_operators():
    source = module("""  subroutine s(n, x, m)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8), intent(inout) :: m
    integer :: i
    do i = 1, n
      if (x(i) .GT. m .and. .not. (x(i) /= x(i))) m = x(i)
    end do
  end subroutine s""")
    model = only_model(source)
    guard = model.scalars["m"][-1].guard
    condition = guard.condition
    assert condition.op == "&&"
    assert condition.args[0].op == ">" and condition.args[1].op == "!"
    assert condition.args[1].args[0].op == "!="
    assert decide(model).reducers[0].operator == "max"


def test_procedures_judged_pure_or_not():
    source = module("""  real(8) function twice(v)
    real(8), intent(in) :: v
    twice = 2 * v
  end function twice
  real(8) function counted(v)
    real(8), intent(in) :: v
    calls = calls + 1
    counted = v
  end function counted
  subroutine s(n, x)
    integer, intent(in) :: n
    real(8), intent(inout) :: x(n)
    integer :: i
    do i = 1, n
      x(i) = twice(x(i))
    end do
    do i = 1, n
      x(i) = counted(x(i))
    end do
  end subroutine s""", "  integer :: calls = 0\n")
    _, (pure, impure) = models(source)
    assert decide(pure).parallel
    verdict = decide(impure)
    assert verdict.dependence.kind == "call" and verdict.dependence.subject == "counted"


def test_subroutines_write_their_out_arguments():
    source = module("""  pure subroutine halve(v, w)
    real(8), intent(in) :: v
    real(8), intent(out) :: w
    w = v / 2
  end subroutine halve
  subroutine s(n, x, y)
    integer, intent(in) :: n
    real(8), intent(in) :: x(n)
    real(8), intent(out) :: y(n)
    integer :: i
    do i = 1, n
      call halve(x(i), y(i))
    end do
  end subroutine s""")
    model = only_model(source)
    assert [(a.base, a.mode) for a in model.accesses] == [("x", "read"), ("y", "update")]
    assert decide(model).parallel


def test_component_arrays_are_bases_of_their_own():
    source = """module m
  implicit none
  type grid
    real(8), allocatable :: a(:)
    real(8), pointer :: p(:)
  end type grid
contains
  subroutine s(n, g, h)
    integer, intent(in) :: n
    type(grid), intent(inout) :: g
    type(grid), intent(in) :: h
    integer :: i
    do i = 1, n
      g%a(i) = h%a(i) * 2
    end do
    do i = 1, n
      g%p(i) = h%p(i) * 2
    end do
  end subroutine s
end module m
"""
    _, (owned, pointers) = models(source)
    assert [(a.base, a.mode) for a in owned.accesses] == [("g.a", "write"), ("h.a", "read")]
    verdict = decide(owned)
    assert verdict.parallel and "g%a(i): each iteration writes its own element" in verdict.facts
    refused = decide(pointers)
    assert refused.dependence.kind == "alias" and "pointer component" in refused.dependence.text
