package ledgerdb

// QReadRun is qReadRun, for the plan test.
const QReadRun = qReadRun
