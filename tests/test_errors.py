"""The one error tree: codes are stable and unique, messages are actionable, tree is documented."""

from __future__ import annotations

import inspect

from blendkit import errors


def _classes() -> list[type[errors.BlendkitError]]:
    return [
        obj
        for obj in vars(errors).values()
        if inspect.isclass(obj) and issubclass(obj, errors.BlendkitError)
    ]


def test_every_error_derives_from_the_root_and_has_a_unique_code() -> None:
    codes = [cls.code for cls in _classes()]
    assert len(codes) == len(set(codes)), "two error classes share a code"
    for cls in _classes():
        assert cls.code.count(".") == 1, cls


def test_docstring_tree_names_every_class_with_its_code() -> None:
    doc = errors.__doc__ or ""
    for cls in _classes():
        assert cls.__name__ in doc, f"{cls.__name__} missing from the tree in errors.py"
        assert cls.code in doc, f"{cls.code} missing from the tree in errors.py"


def test_specific_code_overrides_the_class_code_per_instance() -> None:
    exc = errors.LaunchRejected("the token was already used", code="lti.replayed_nonce")
    assert exc.code == "lti.replayed_nonce"
    assert errors.LaunchRejected.code == "lti.launch_rejected"
    assert str(exc) == "[lti.replayed_nonce] the token was already used"
    assert exc.to_dict() == {"error": "lti.replayed_nonce", "message": "the token was already used"}
    assert isinstance(exc, errors.LTIError)
