ALTER TYPE mood ADD VALUE 'great';
