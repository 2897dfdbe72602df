"""Pure read-time rules: facts + now -> response values. No I/O."""
