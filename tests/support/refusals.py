"""Making the database refuse some inserts into ``events``, as a full disk would: a
trigger raising *database or disk is full*, on SQLite and on PostgreSQL."""

from sqlalchemy import Engine, text

REASON = "database or disk is full"


def refuse_inserts(engine: Engine, condition: str) -> None:
    """From now on, inserting an event row for which ``condition`` (SQL over ``NEW``,
    e.g. ``NEW.seq = 3``) holds fails. Undo with :func:`accept_inserts`."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF {condition} THEN RAISE EXCEPTION '{REASON}'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON events "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
            return
        connection.execute(
            text(
                f"CREATE TRIGGER refuse BEFORE INSERT ON events WHEN {condition} "
                f"BEGIN SELECT RAISE(ABORT, '{REASON}'); END"
            )
        )


def accept_inserts(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER refuse ON events"))
            connection.execute(text("DROP FUNCTION refuse()"))
            return
        connection.execute(text("DROP TRIGGER refuse"))
