-- ==== limbeck upgrade head --sql ====
BEGIN TRANSACTION;

GO

CREATE TABLE limbeck_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT limbeck_version_pkc PRIMARY KEY (version_num)
);

GO

-- upgrade <base> -> a1, create account

CREATE TABLE account (
	id INTEGER NOT NULL IDENTITY,
	name VARCHAR(50) NOT NULL,
	PRIMARY KEY (id)
);

GO

INSERT INTO limbeck_version (version_num) VALUES ('a1');

GO

-- upgrade a1 -> b1, add email

ALTER TABLE account ADD email VARCHAR(100) NULL;

GO

UPDATE limbeck_version SET version_num='b1' WHERE limbeck_version.version_num = 'a1';

GO

-- upgrade a1 -> c1, create note

CREATE TABLE note (
	id INTEGER NOT NULL IDENTITY,
	account_id INTEGER NULL,
	body TEXT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(account_id) REFERENCES account (id)
);

GO

CREATE INDEX ix_note_account_id ON note (account_id);

GO

INSERT INTO limbeck_version (version_num) VALUES ('c1');

GO

-- upgrade b1, c1 -> m1, merge

INSERT INTO note (id, body) VALUES (1, 'it''s 50% done');

GO

UPDATE limbeck_version SET version_num='m1' WHERE limbeck_version.version_num = 'b1';

GO

DELETE FROM limbeck_version WHERE limbeck_version.version_num = 'c1';

GO

-- upgrade m1 -> d1, note created_at

ALTER TABLE note ADD created_at DATETIME NULL;

GO

CREATE INDEX ix_note_created_at ON note (created_at);

GO

UPDATE limbeck_version SET version_num='d1' WHERE limbeck_version.version_num = 'm1';

GO

COMMIT;

GO

-- ==== limbeck downgrade head:base --sql ====
BEGIN TRANSACTION;

GO

-- downgrade d1 -> m1, note created_at

DROP INDEX ix_note_created_at ON note;

GO

ALTER TABLE note DROP COLUMN created_at;

GO

UPDATE limbeck_version SET version_num='m1' WHERE limbeck_version.version_num = 'd1';

GO

-- downgrade m1 -> b1, c1, merge

DELETE FROM note WHERE id = 1;

GO

UPDATE limbeck_version SET version_num='b1' WHERE limbeck_version.version_num = 'm1';

GO

INSERT INTO limbeck_version (version_num) VALUES ('c1');

GO

-- downgrade c1 -> a1, create note

DROP INDEX ix_note_account_id ON note;

GO

DROP TABLE note;

GO

DELETE FROM limbeck_version WHERE limbeck_version.version_num = 'c1';

GO

-- downgrade b1 -> a1, add email

ALTER TABLE account DROP COLUMN email;

GO

UPDATE limbeck_version SET version_num='a1' WHERE limbeck_version.version_num = 'b1';

GO

-- downgrade a1 -> <base>, create account

DROP TABLE account;

GO

DELETE FROM limbeck_version WHERE limbeck_version.version_num = 'a1';

GO

COMMIT;

GO

-- ==== limbeck upgrade a1:head --sql ====
BEGIN TRANSACTION;

GO

-- upgrade a1 -> b1, add email

ALTER TABLE account ADD email VARCHAR(100) NULL;

GO

UPDATE limbeck_version SET version_num='b1' WHERE limbeck_version.version_num = 'a1';

GO

-- upgrade a1 -> c1, create note

CREATE TABLE note (
	id INTEGER NOT NULL IDENTITY,
	account_id INTEGER NULL,
	body TEXT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(account_id) REFERENCES account (id)
);

GO

CREATE INDEX ix_note_account_id ON note (account_id);

GO

INSERT INTO limbeck_version (version_num) VALUES ('c1');

GO

-- upgrade b1, c1 -> m1, merge

INSERT INTO note (id, body) VALUES (1, 'it''s 50% done');

GO

UPDATE limbeck_version SET version_num='m1' WHERE limbeck_version.version_num = 'b1';

GO

DELETE FROM limbeck_version WHERE limbeck_version.version_num = 'c1';

GO

-- upgrade m1 -> d1, note created_at

ALTER TABLE note ADD created_at DATETIME NULL;

GO

CREATE INDEX ix_note_created_at ON note (created_at);

GO

UPDATE limbeck_version SET version_num='d1' WHERE limbeck_version.version_num = 'm1';

GO

COMMIT;

GO

-- ==== limbeck stamp head --sql ====
BEGIN TRANSACTION;

GO

CREATE TABLE limbeck_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT limbeck_version_pkc PRIMARY KEY (version_num)
);

GO

-- stamp <base> -> d1

INSERT INTO limbeck_version (version_num) VALUES ('d1');

GO

COMMIT;

GO

-- ==== limbeck upgrade head --sql --tag x ====
-- tag: x

BEGIN TRANSACTION;

GO

CREATE TABLE limbeck_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT limbeck_version_pkc PRIMARY KEY (version_num)
);

GO

-- upgrade <base> -> a1, create account

CREATE TABLE account (
	id INTEGER NOT NULL IDENTITY,
	name VARCHAR(50) NOT NULL,
	PRIMARY KEY (id)
);

GO

INSERT INTO limbeck_version (version_num) VALUES ('a1');

GO

-- upgrade a1 -> b1, add email

ALTER TABLE account ADD email VARCHAR(100) NULL;

GO

UPDATE limbeck_version SET version_num='b1' WHERE limbeck_version.version_num = 'a1';

GO

-- upgrade a1 -> c1, create note

CREATE TABLE note (
	id INTEGER NOT NULL IDENTITY,
	account_id INTEGER NULL,
	body TEXT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(account_id) REFERENCES account (id)
);

GO

CREATE INDEX ix_note_account_id ON note (account_id);

GO

INSERT INTO limbeck_version (version_num) VALUES ('c1');

GO

-- upgrade b1, c1 -> m1, merge

INSERT INTO note (id, body) VALUES (1, 'it''s 50% done');

GO

UPDATE limbeck_version SET version_num='m1' WHERE limbeck_version.version_num = 'b1';

GO

DELETE FROM limbeck_version WHERE limbeck_version.version_num = 'c1';

GO

-- upgrade m1 -> d1, note created_at

ALTER TABLE note ADD created_at DATETIME NULL;

GO

CREATE INDEX ix_note_created_at ON note (created_at);

GO

UPDATE limbeck_version SET version_num='d1' WHERE limbeck_version.version_num = 'm1';

GO

COMMIT;

GO
