"""Published checklist templates (a package only so that installs ship the YAML files)."""
