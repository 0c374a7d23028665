"""Company visits (virksomhedsbesøg): availability, booking storage and notifications."""
