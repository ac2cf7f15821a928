/* foo(20) = 42: the function every variant tries to re-export. */
int foo(int x) { return x + 22; }
