-- The money invariant, checkable at any time. Returns one row per violating user, none when all is well:
--   balance = credits in (topup, bonus, adjustment, refund) - money out (charge, debit)
--   held    = sum of open holds (holds table)
--           = holds - charges - releases in the ledger (each hold closes once, for its full amount)
--   balance >= held >= 0
WITH movements AS (
    SELECT user_id,
           coalesce(sum(amount) FILTER (WHERE kind IN ('topup', 'bonus', 'adjustment', 'refund')), 0)
         - coalesce(sum(amount) FILTER (WHERE kind IN ('charge', 'debit')), 0)             AS ledger_balance,
           coalesce(sum(amount) FILTER (WHERE kind = 'hold'), 0)
         - coalesce(sum(amount) FILTER (WHERE kind IN ('charge', 'release')), 0)           AS ledger_held
    FROM ledger_entries
    GROUP BY user_id
), open_holds AS (
    SELECT user_id, sum(amount) AS open_held
    FROM holds
    WHERE state = 'open'
    GROUP BY user_id
), checked AS (
    SELECT a.user_id,
           a.balance,
           a.held,
           coalesce(m.ledger_balance, 0) AS expected_balance,
           coalesce(m.ledger_held, 0)    AS expected_held,
           coalesce(h.open_held, 0)      AS open_holds
    FROM accounts AS a
    LEFT JOIN movements AS m USING (user_id)
    LEFT JOIN open_holds AS h USING (user_id)
)
SELECT user_id, balance, held, expected_balance, expected_held, open_holds,
       array_remove(ARRAY[
           CASE WHEN balance <> expected_balance THEN 'balance differs from credits minus charges' END,
           CASE WHEN held <> open_holds THEN 'held differs from the sum of open holds' END,
           CASE WHEN held <> expected_held THEN 'held differs from holds minus charges and releases' END,
           CASE WHEN balance < 0 OR held < 0 THEN 'negative balance or held' END,
           CASE WHEN balance < held THEN 'held exceeds balance' END
       ], NULL) AS problems
FROM checked
WHERE balance <> expected_balance
   OR held <> open_holds
   OR held <> expected_held
   OR balance < 0
   OR held < 0
   OR balance < held
ORDER BY user_id
