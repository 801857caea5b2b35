-- ==== limbeck upgrade head --sql ====
BEGIN;

CREATE TABLE limbeck_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT limbeck_version_pkc PRIMARY KEY (version_num)
);

-- upgrade <base> -> a1, create account

CREATE TABLE account (
	id INTEGER NOT NULL,
	name VARCHAR(50) NOT NULL,
	PRIMARY KEY (id)
);

INSERT INTO limbeck_version (version_num) VALUES ('a1');

-- upgrade a1 -> b1, add email

ALTER TABLE account ADD COLUMN email VARCHAR(100);

UPDATE limbeck_version SET version_num='b1' WHERE limbeck_version.version_num = 'a1';

-- upgrade a1 -> c1, create note

CREATE TABLE note (
	id INTEGER NOT NULL,
	account_id INTEGER,
	body TEXT,
	PRIMARY KEY (id),
	FOREIGN KEY(account_id) REFERENCES account (id)
);

CREATE INDEX ix_note_account_id ON note (account_id);

INSERT INTO limbeck_version (version_num) VALUES ('c1');

-- upgrade b1, c1 -> m1, merge

INSERT INTO note (id, body) VALUES (1, 'it''s 50% done');

UPDATE limbeck_version SET version_num='m1' WHERE limbeck_version.version_num = 'b1';

DELETE FROM limbeck_version WHERE limbeck_version.version_num = 'c1';

-- upgrade m1 -> d1, note created_at

ALTER TABLE note ADD COLUMN created_at DATETIME;

CREATE INDEX ix_note_created_at ON note (created_at);

UPDATE limbeck_version SET version_num='d1' WHERE limbeck_version.version_num = 'm1';

COMMIT;

-- ==== limbeck downgrade head:base --sql ====
BEGIN;

-- downgrade d1 -> m1, note created_at

DROP INDEX ix_note_created_at;

ALTER TABLE note DROP COLUMN created_at;

UPDATE limbeck_version SET version_num='m1' WHERE limbeck_version.version_num = 'd1';

-- downgrade m1 -> b1, c1, merge

DELETE FROM note WHERE id = 1;

UPDATE limbeck_version SET version_num='b1' WHERE limbeck_version.version_num = 'm1';

INSERT INTO limbeck_version (version_num) VALUES ('c1');

-- downgrade c1 -> a1, create note

DROP INDEX ix_note_account_id;

DROP TABLE note;

DELETE FROM limbeck_version WHERE limbeck_version.version_num = 'c1';

-- downgrade b1 -> a1, add email

ALTER TABLE account DROP COLUMN email;

UPDATE limbeck_version SET version_num='a1' WHERE limbeck_version.version_num = 'b1';

-- downgrade a1 -> <base>, create account

DROP TABLE account;

DELETE FROM limbeck_version WHERE limbeck_version.version_num = 'a1';

COMMIT;

-- ==== limbeck upgrade a1:head --sql ====
BEGIN;

-- upgrade a1 -> b1, add email

ALTER TABLE account ADD COLUMN email VARCHAR(100);

UPDATE limbeck_version SET version_num='b1' WHERE limbeck_version.version_num = 'a1';

-- upgrade a1 -> c1, create note

CREATE TABLE note (
	id INTEGER NOT NULL,
	account_id INTEGER,
	body TEXT,
	PRIMARY KEY (id),
	FOREIGN KEY(account_id) REFERENCES account (id)
);

CREATE INDEX ix_note_account_id ON note (account_id);

INSERT INTO limbeck_version (version_num) VALUES ('c1');

-- upgrade b1, c1 -> m1, merge

INSERT INTO note (id, body) VALUES (1, 'it''s 50% done');

UPDATE limbeck_version SET version_num='m1' WHERE limbeck_version.version_num = 'b1';

DELETE FROM limbeck_version WHERE limbeck_version.version_num = 'c1';

-- upgrade m1 -> d1, note created_at

ALTER TABLE note ADD COLUMN created_at DATETIME;

CREATE INDEX ix_note_created_at ON note (created_at);

UPDATE limbeck_version SET version_num='d1' WHERE limbeck_version.version_num = 'm1';

COMMIT;

-- ==== limbeck stamp head --sql ====
BEGIN;

CREATE TABLE limbeck_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT limbeck_version_pkc PRIMARY KEY (version_num)
);

-- stamp <base> -> d1

INSERT INTO limbeck_version (version_num) VALUES ('d1');

COMMIT;

-- ==== limbeck upgrade head --sql --tag x ====
-- tag: x

BEGIN;

CREATE TABLE limbeck_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT limbeck_version_pkc PRIMARY KEY (version_num)
);

-- upgrade <base> -> a1, create account

CREATE TABLE account (
	id INTEGER NOT NULL,
	name VARCHAR(50) NOT NULL,
	PRIMARY KEY (id)
);

INSERT INTO limbeck_version (version_num) VALUES ('a1');

-- upgrade a1 -> b1, add email

ALTER TABLE account ADD COLUMN email VARCHAR(100);

UPDATE limbeck_version SET version_num='b1' WHERE limbeck_version.version_num = 'a1';

-- upgrade a1 -> c1, create note

CREATE TABLE note (
	id INTEGER NOT NULL,
	account_id INTEGER,
	body TEXT,
	PRIMARY KEY (id),
	FOREIGN KEY(account_id) REFERENCES account (id)
);

CREATE INDEX ix_note_account_id ON note (account_id);

INSERT INTO limbeck_version (version_num) VALUES ('c1');

-- upgrade b1, c1 -> m1, merge

INSERT INTO note (id, body) VALUES (1, 'it''s 50% done');

UPDATE limbeck_version SET version_num='m1' WHERE limbeck_version.version_num = 'b1';

DELETE FROM limbeck_version WHERE limbeck_version.version_num = 'c1';

-- upgrade m1 -> d1, note created_at

ALTER TABLE note ADD COLUMN created_at DATETIME;

CREATE INDEX ix_note_created_at ON note (created_at);

UPDATE limbeck_version SET version_num='d1' WHERE limbeck_version.version_num = 'm1';

COMMIT;
