"""What the enforcement pages read and parse besides the selectors and the workflow: the case
actions a page offers and takes (actions), its forms (forms, inbox_forms), the reads of the
calls inbox and the dashboard (inbox, dashboard), the desk's export (exports). The views are in
enforcement/views/."""
