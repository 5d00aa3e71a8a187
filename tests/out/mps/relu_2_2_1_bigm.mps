* nnmilp snapshot test
* second header line
* model nnmilp: 9 columns (2 binary, 0 general integer), 7 rows, 0 indicator constraints
* objective: maximize, written negated as minimize: optimum = -(file optimum)
NAME nnmilp FREE
ROWS
 N obj
 E relu_L1_0
 L ub_L1_0
 L lb_L1_0
 E relu_L1_1
 L ub_L1_1
 L lb_L1_1
 E out_0
COLUMNS
    in_0 relu_L1_0 -1
    in_0 relu_L1_1 -0.5
    in_1 relu_L1_0 1
    in_1 relu_L1_1 -1
    x_L1_0 relu_L1_0 1
    x_L1_0 ub_L1_0 1
    x_L1_0 out_0 -1
    s_L1_0 relu_L1_0 -1
    s_L1_0 lb_L1_0 1
    MARKER 'MARKER' 'INTORG'
    z_L1_0 ub_L1_0 2.5
    z_L1_0 lb_L1_0 -1.5
    MARKER 'MARKER' 'INTEND'
    x_L1_1 relu_L1_1 1
    x_L1_1 ub_L1_1 1
    x_L1_1 out_0 2
    s_L1_1 relu_L1_1 -1
    s_L1_1 lb_L1_1 1
    MARKER 'MARKER' 'INTORG'
    z_L1_1 ub_L1_1 1.25
    z_L1_1 lb_L1_1 -1.75
    MARKER 'MARKER' 'INTEND'
    y_0 obj -1
    y_0 out_0 1
RHS
    RHS relu_L1_0 0.5
    RHS ub_L1_0 2.5
    RHS relu_L1_1 -0.25
    RHS ub_L1_1 1.25
    RHS out_0 0.25
BOUNDS
 LO BND in_0 -1
 UP BND in_0 1
 LO BND in_1 -1
 UP BND in_1 1
 UP BND x_L1_0 2.5
 UP BND s_L1_0 1.5
 BV BND z_L1_0
 UP BND x_L1_1 1.25
 UP BND s_L1_1 1.75
 BV BND z_L1_1
 LO BND y_0 -2.25
 UP BND y_0 2.75
ENDATA
