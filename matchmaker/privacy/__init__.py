"""A member's rights over their data: download everything held about them, erase their account,
and close an organisation they own. It reads and changes every feature's records, as the
interchange feature does, so it sits beside them rather than inside one."""
