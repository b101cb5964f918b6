# Wording of the product, one folder per language; installed as retention_xl.templates.
