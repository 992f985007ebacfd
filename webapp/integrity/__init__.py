"""Academic integrity: how closely candidates' code answers match each other's."""
