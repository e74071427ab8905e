-- The journal's three foreign keys (asset_id, debit_account_id and
-- credit_account_id) go on PostgreSQL. There each was an after-row trigger
-- per inserted entry running SELECT ... FOR KEY SHARE on the referenced
-- asset or account, which locks that row: a write (and a WAL record) on
-- the accounts and assets pages per entry, and, while one batch commits
-- and the next is being written (db.singlewriter), two transactions
-- locking the same rows, which PostgreSQL records as a MultiXact.
--
-- They are implied by the balances' foreign keys. Every entry is written
-- in the transaction that writes the balance of each account it names, in
-- the entry's asset: a transfer debits one account and credits the other,
-- a mint credits its account, a burn debits its account (ledger.apply and
-- applyFast; a run of transfers, ledger.applyRun, writes both balances in
-- the statement that inserts the entries, ledgerdb qWriteBatch). A debit
-- or an update finds an existing balances row, which its foreign keys tie
-- to an existing account and asset; a first credit inserts a row, which
-- they check. Accounts and assets are never deleted (and a row with
-- balances cannot be). So an entry can name only an existing account and
-- asset. TestJournalNamesAccountsWithBalances checks that every account an
-- entry names has a balances row in the entry's asset.
--
-- SQLite keeps them (store/dialect.go comments these statements out): its
-- check is an in-process index probe that takes no lock, and dropping a
-- constraint there means rebuilding the table.
ALTER TABLE journal DROP CONSTRAINT journal_asset_id_fkey;
ALTER TABLE journal DROP CONSTRAINT journal_debit_account_id_fkey;
ALTER TABLE journal DROP CONSTRAINT journal_credit_account_id_fkey;
