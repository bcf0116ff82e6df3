"""Adds the top-level cypher/ folder to the packages as relgraph.cypher (see pyproject.toml).

pyproject.toml cannot both discover the packages under src/ and name one more that lives
elsewhere, so the discovery is done here; everything else is configured in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages("src"), "relgraph.cypher"])
