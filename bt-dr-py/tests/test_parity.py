"""Every public operation of bt-dr-core has a Python counterpart."""

import inspect

import bt_dr


def counterpart(name: str) -> object:
    """The module-level function, else the ``Client`` method, of that name."""
    return getattr(bt_dr, name, None) or getattr(bt_dr.Client, name, None)


def test_every_core_operation_has_a_python_counterpart() -> None:
    ops = bt_dr.operations()
    assert len(ops) >= 20
    missing = [o.name for o in ops if not callable(counterpart(o.name))]
    assert missing == [], f"operations without a Python counterpart: {missing}"


def test_counterparts_are_documented() -> None:
    for o in bt_dr.operations():
        f = counterpart(o.name)
        if callable(f):
            assert inspect.getdoc(f), f"{o.name} has no docstring"


def test_api_operations_are_client_methods() -> None:
    for o in bt_dr.operations():
        if o.area == "api":
            assert callable(getattr(bt_dr.Client, o.name, None)), o.name
