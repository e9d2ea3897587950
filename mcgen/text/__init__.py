"""Text mcgen does not write by hand: YAML (yamlout), Markdown (markdown) and the Jinja
templates under templates/ (templates). User strings reach an output only through these,
or through mcgen/promql for PromQL."""
