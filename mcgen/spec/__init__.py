"""The spec: a service's YAML, loaded with positions (load.py), checked against the JSON
Schema (schema.py) and by the checks a schema cannot express (semantics.py and the
modules it calls), and built into the frozen model every output reads (model.py);
validate.py runs it all and reports every problem at once."""
