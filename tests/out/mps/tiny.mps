* nnmilp snapshot test
* second header line
* model tiny: 4 columns (1 binary, 1 general integer), 3 rows, 0 indicator constraints
NAME tiny FREE
ROWS
 N obj
 L c1
 G c2
 E c3
COLUMNS
    x obj 1
    x c1 1
    x c3 1
    y obj -1
    y c1 2
    y c2 1
    MARKER 'MARKER' 'INTORG'
    b c1 -3
    n obj 0.5
    n c2 -1
    n c3 1
    MARKER 'MARKER' 'INTEND'
RHS
    RHS c1 4
    RHS c2 -1.5
    RHS c3 2
BOUNDS
 UP BND x 4
 FR BND y
 BV BND b
 LO BND n -2
 UP BND n 3
ENDATA
