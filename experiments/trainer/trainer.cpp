// (being written: see the helper branch)
