"""Which packages the distribution holds (everything else is in pyproject.toml).

blendkit's packages are found as usual. The example apps under ``examples/`` ship in the same
wheel as the package ``blendkit_examples`` (``examples/flask_app`` is
``blendkit_examples.flask_app``), so ``blendkit demo`` works from an installed wheel; that is
their one import name, in the checkout too.
"""

from setuptools import find_namespace_packages, find_packages, setup

EXAMPLES = "blendkit_examples"

setup(
    packages=[
        *find_packages(include=["blendkit", "blendkit.*"]),
        EXAMPLES,
        # Namespace discovery lists the apps' templates/ and static/ folders as well.
        *(
            f"{EXAMPLES}.{name}"
            for name in find_namespace_packages("examples", exclude=["*__pycache__*"])
        ),
    ],
    package_dir={EXAMPLES: "examples"},
)
