* nnmilp snapshot test
* second header line
* model hand: 15 columns (3 binary, 6 general integer), 12 rows, 0 indicator constraints
* objective: maximize, written negated as minimize; offset 10 not written: optimum = 10 - (file optimum)
NAME hand FREE
ROWS
 N obj
 G r1
 G r2
 G r3
 L r4
 L r5
 E r6
 E r7
 G r8
 G card
 L xcl
 L mix
 L void
COLUMNS
    c1 obj 1
    c1 r1 1
    c1 void 0
    MARKER 'MARKER' 'INTORG'
    b1 obj -2
    b1 r1 2
    b1 r6 -1
    b1 card 1
    b1 xcl 1
    b2 obj 1
    b2 r2 -1
    b2 card 1
    b2 xcl 1
    b2 mix 3
    MARKER 'MARKER' 'INTEND'
    c2 obj 2
    c2 r2 1
    MARKER 'MARKER' 'INTORG'
    b3 obj -0.25
    b3 r3 -1
    b3 r8 -2
    b3 card 1
    b4 obj -3
    b4 xcl 1
    i1 obj 0.75
    i1 r1 -3
    i1 r2 -1
    i1 r5 1
    i1 r7 -1
    i1 mix 2
    i2 obj -1.5
    i2 r2 -1
    i2 r3 -1
    i2 r5 1
    i2 r6 -1
    i2 mix -1
    i3 obj -0.5
    i3 r4 -1
    i3 r7 -1
    i4 obj 0.5
    i4 r7 1
    i5 obj 1
    i5 r8 1
    MARKER 'MARKER' 'INTEND'
    c3 obj 1
    c3 r3 1
    c4 obj -1
    c4 r4 1
    c5 obj 1
    c5 r5 1
    c6 obj 1e-5
    c6 r6 1
RHS
    RHS r1 -5
    RHS r2 -4
    RHS r4 -0.5
    RHS r5 6.5
    RHS r8 1
    RHS card 1
    RHS xcl 2
    RHS mix 4
    RHS void 3
BOUNDS
 FR BND c1
 BV BND b1
 BV BND b2
 MI BND c2
 UP BND c2 -1
 BV BND b3
 FX BND b4 1
 LO BND i1 -2
 UP BND i1 3
 LO BND i2 0
 UP BND i2 4
 LO BND i3 -3
 UP BND i3 -1
 MI BND i4
 PL BND i4
 LO BND i5 2
 PL BND i5
 LO BND c3 2
 LO BND c4 -5
 UP BND c4 -2
 FX BND c5 1.5
ENDATA
